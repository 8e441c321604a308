# The project's image: the moviepipe CLI with Java 17 and the Spark/Kafka jars.
# Used by docker-compose.yml for the init job, the Spark landing job and the API.
FROM maven:3.9-eclipse-temurin-17 AS jars
WORKDIR /build
COPY jars/ jars/
RUN mvn -q -B -s jars/settings.xml -f jars/spark/pom.xml dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory=/build/out/spark

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY moviepipe/ moviepipe/
COPY extract/ extract/
COPY streaming/ streaming/
COPY serving/ serving/
COPY orchestration/ orchestration/
RUN pip install --no-cache-dir .
COPY . .
COPY --from=jars /build/out/spark /app/.local/jars/spark
ENV MOVIEPIPE_HOME=/app/.local
ENTRYPOINT ["moviepipe"]
CMD ["services", "status"]
