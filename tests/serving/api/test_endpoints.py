"""Every endpoint against a real gold build, compared with what gold holds; 404s and 422s."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from moviepipe import db
from moviepipe.config import Settings
from serving.api import queries
from tests.warehouse.conftest import KPI_TABLES, query


def test_top_movies_match_the_mart_in_rank_order(client: httpx.Client, api_gold: Settings) -> None:
    expected = query(
        api_gold,
        "select movie_id, rank, as_of_date from gold.top_movies"
        " where period = 'all' and genre = 'all' and metric = 'engagement' order by rank",
    )
    assert len(expected) >= 3
    body = client.get("/api/top_movies", params={"limit": 2}).json()
    assert [i["movie_id"] for i in body["items"]] == [r["movie_id"] for r in expected[:2]]
    assert [i["rank"] for i in body["items"]] == [1, 2]
    assert body["as_of_date"] == expected[0]["as_of_date"].isoformat()
    assert body["page"] == {"limit": 2, "offset": 0, "returned": 2}
    page2 = client.get("/api/top_movies", params={"limit": 2, "offset": 2}).json()
    assert page2["items"][0]["movie_id"] == expected[2]["movie_id"]


def test_top_movies_filters_on_genre_period_and_metric(
    client: httpx.Client, api_gold: Settings
) -> None:
    row = query(
        api_gold,
        "select genre, period, metric, count(*) as n from gold.top_movies"
        " where genre <> 'all' group by 1, 2, 3 order by n desc, 1, 2, 3 limit 1",
    )[0]
    params = {"genre": row["genre"], "period": row["period"], "metric": row["metric"]}
    body = client.get("/api/top_movies", params=params).json()
    assert (body["genre"], body["period"], body["metric"]) == tuple(params.values())
    assert len(body["items"]) == row["n"]


def test_top_movies_unknown_genre_is_404_and_bad_values_422(client: httpx.Client) -> None:
    assert client.get("/api/top_movies", params={"genre": "Cowboys"}).status_code == 404
    for bad in ({"period": "1y"}, {"metric": "x"}, {"limit": 0}, {"limit": 101}, {"offset": -1}):
        r = client.get("/api/top_movies", params=bad)
        assert r.status_code == 422, bad
        assert r.json()["detail"][0]["loc"][0] == "query"


def test_user_stats_one_user_and_the_aggregate(client: httpx.Client, api_gold: Settings) -> None:
    users = query(api_gold, "select * from gold.user_stats order by user_id")
    overall = query(api_gold, "select * from gold.user_stats_overall")[0]
    body = client.get("/api/user_stats", params={"user_id": users[0]["user_id"]}).json()
    assert body["scope"] == "user" and body["user_count"] == 1
    assert body["stats"]["event_count"] == users[0]["event_count"]
    assert body["stats"]["favourite_genres"] == queries.split_list(users[0]["favourite_genres"])
    agg = client.get("/api/user_stats").json()
    assert agg["scope"] == "all" and agg["user_id"] is None
    assert agg["user_count"] == overall["user_count"] == len(users)
    assert agg["stats"]["event_count"] == sum(u["event_count"] for u in users)
    assert client.get("/api/user_stats", params={"user_id": "nobody"}).status_code == 404
    assert client.get("/api/user_stats", params={"user_id": ""}).status_code == 422


def test_emotion_trends_per_movie_and_genre(client: httpx.Client, api_gold: Settings) -> None:
    rows = query(
        api_gold,
        "select scope, movie_id, genre, granularity, period_start, comment_count"
        " from gold.emotion_trends order by scope, period_start",
    )
    movie = next(r for r in rows if r["scope"] == "movie")
    body = client.get(
        "/api/emotion_trends",
        params={"movie_id": movie["movie_id"], "granularity": movie["granularity"]},
    ).json()
    assert movie["period_start"].isoformat() in [i["period_start"] for i in body["items"]]
    genre = next(r for r in rows if r["scope"] == "genre")
    day = genre["period_start"].isoformat()
    params = {"genre": genre["genre"], "granularity": genre["granularity"]}
    body = client.get("/api/emotion_trends", params={**params, "date_from": day, "date_to": day})
    assert [i["comment_count"] for i in body.json()["items"]] == [genre["comment_count"]]
    later = client.get("/api/emotion_trends", params={**params, "date_from": "2999-01-01"})
    assert later.status_code == 200 and later.json()["items"] == []


def test_emotion_trends_404_and_422(client: httpx.Client) -> None:
    get = client.get
    assert get("/api/emotion_trends", params={"movie_id": 999_999_999_999}).status_code == 404
    assert get("/api/emotion_trends", params={"genre": "Cowboys"}).status_code == 404
    for bad in (
        {},  # neither movie_id nor genre
        {"movie_id": 101, "genre": "Drama"},  # both
        {"genre": "Drama", "date_from": "2024-02-01", "date_to": "2024-01-01"},
        {"genre": "Drama", "granularity": "month"},
        {"genre": "Drama", "date_from": "2024-13-45"},
        {"movie_id": 2**63},  # past bigint
    ):
        assert get("/api/emotion_trends", params=bad).status_code == 422, bad


def test_every_kpi_mart_is_served_and_unknown_is_404(
    client: httpx.Client, api_gold: Settings
) -> None:
    assert sorted(t for t, _, _ in queries.KPIS.values()) == sorted(KPI_TABLES)
    listed = [k["name"] for k in client.get("/api/kpis").json()]
    assert listed == list(queries.KPIS)
    for name, (table, _, _) in queries.KPIS.items():
        body = client.get(f"/api/kpis/{name}").json()
        assert (
            len(body["rows"]) == query(api_gold, f"select count(*) as n from gold.{table}")[0]["n"]
        )
        assert body["columns"] and set(body["rows"][0]) == set(body["columns"]), name
    revenue = client.get("/api/kpis/highest_revenue").json()["rows"]
    assert isinstance(revenue[0]["revenue_musd"], float)
    assert [r["rank"] for r in revenue] == sorted(r["rank"] for r in revenue)
    assert client.get("/api/kpis/kpi_highest_revenue").status_code == 404
    assert client.get("/api/kpis/dim_user").status_code == 404


def search(client: httpx.Client, **params: object) -> dict:
    r = client.get("/api/movies/search", params=params)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    return r.json()


def test_search_filters(client: httpx.Client, api_gold: Settings) -> None:
    movies = query(api_gold, "select * from gold.dim_movie order by movie_id")
    target = next(m for m in movies if m["genres"] and "|" in m["genres"])
    g1, g2 = target["genres"].split("|")[:2]
    both = {m["movie_id"] for m in movies if {g1, g2} <= set((m["genres"] or "").split("|"))}
    hits = search(client, genre=[g1, g2.upper()], limit=100)
    assert {i["movie_id"] for i in hits["items"]} == both and hits["total"] == len(both)
    word = target["title"][1:4].lower()
    titled = {m["movie_id"] for m in movies if word in m["title"].lower()}
    assert {i["movie_id"] for i in search(client, q=word, limit=100)["items"]} == titled
    actor = target["top_cast"].split("|")[0]
    cast = search(client, cast=actor.upper(), limit=100)["items"]
    assert cast and all(actor in i["top_cast"] for i in cast)
    director = target["directors"].split("|")[0]
    directed = search(client, director=director[:4], limit=100)["items"]
    assert target["movie_id"] in {i["movie_id"] for i in directed}
    year = target["release_year"]
    ranged = search(client, year_from=year, year_to=year, limit=100)["items"]
    assert {i["release_year"] for i in ranged} == {year}


@pytest.mark.parametrize(
    ("sort", "column"),
    [
        ("rating", "vote_average"),
        ("popularity", "popularity"),
        ("runtime", "runtime_min"),
        ("revenue", "revenue_musd"),
        ("release_date", "release_date"),
    ],
)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_search_sorts_nulls_last_and_ties_by_movie_id(
    client: httpx.Client, api_gold: Settings, sort: str, column: str, order: str
) -> None:
    expected = query(
        api_gold,
        f"select movie_id from gold.dim_movie order by {column} {order} nulls last, movie_id",
    )
    got = search(client, sort=sort, order=order, limit=100)["items"]
    assert [i["movie_id"] for i in got] == [r["movie_id"] for r in expected]
    paged = [
        i["movie_id"]
        for off in range(0, len(expected), 2)
        for i in search(client, sort=sort, order=order, limit=2, offset=off)["items"]
    ]
    assert paged == [r["movie_id"] for r in expected]


def test_search_404_and_422(client: httpx.Client) -> None:
    assert client.get("/api/movies/search", params={"genre": "Cowboys"}).status_code == 404
    for bad in (
        {"sort": "title"},
        {"order": "up"},
        {"limit": 1000},
        {"year_from": "nineteen"},
        {"year_from": 2000, "year_to": 1990},
        {"q": ""},
        {"genre": [f"g{i}" for i in range(11)]},
    ):
        assert client.get("/api/movies/search", params=bad).status_code == 422, bad
    beyond = search(client, offset=10_000)
    assert beyond["items"] == [] and beyond["total"] > 0


INJECTIONS = [
    "' or 1=1 --",
    "'; drop table gold.dim_movie; --",
    "\\",
    "%",
    "_",
    "%%",
    "\u0000",
    "a\u0000b",
    "Robert'); select pg_sleep(10); --",
    "$1",
    "%(q)s",
    "{}",
    "\ud7ff\ue000",
    "🎬" * 50,
    "x" * 201,
    "%s %s %s",
    "' union select usename, passwd from pg_shadow --",
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_hostile_text_never_gives_a_server_error(client: httpx.Client, value: str) -> None:
    for path, name in (
        ("/api/movies/search", "q"),
        ("/api/movies/search", "cast"),
        ("/api/movies/search", "director"),
        ("/api/movies/search", "genre"),
        ("/api/top_movies", "genre"),
        ("/api/user_stats", "user_id"),
        ("/api/emotion_trends", "genre"),
        ("/api/emotion_trends", "movie_id"),
    ):
        r = client.get(path, params={name: value})
        assert r.status_code in (200, 404, 422), (path, name, value, r.status_code, r.text)
    assert client.get(f"/api/kpis/{quote(value, safe='')}").status_code in (404, 422)
    # Wildcards are literal: a "%" title filter matches only titles with a "%".
    if value == "%":
        assert search(client, q=value)["total"] == 0
    assert query_count_movies(client) > 0  # still there


def query_count_movies(client: httpx.Client) -> int:
    return search(client, limit=1)["total"]


def test_health_reports_database_gold_and_gate(client: httpx.Client, api_gold: Settings) -> None:
    with db.connect(api_gold, "admin") as conn:  # a gate run of two checkpoints, one failed
        conn.execute(
            "insert into ops.quality_results (run_id, checkpoint, layer, success) values"
            " ('health-test', 'silver.movies_curated', 'silver', false),"
            " ('health-test', 'gold_build.dim_movie', 'gold', true)"
        )
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["database"] is True
    oid = query(api_gold, "select to_regnamespace('gold')::oid as oid")[0]["oid"]
    assert body["gold_schema_oid"] == oid
    as_of = query(api_gold, "select max(as_of_date) as d from gold.top_movies")[0]["d"]
    assert body["gold_as_of_date"] == as_of.isoformat()
    assert isinstance(body["gold_lag_days"], int)
    # Through health.last_gate()/last_publish(): the reader itself reads no ops table.
    gate = body["gate"]
    assert (gate["run_id"], gate["success"]) == ("health-test", False)
    assert gate["failed_checkpoints"] == ["silver.movies_curated"]
    published = query(api_gold, "select run_id from ops.publish_log order by publish_id desc")
    assert body["last_publish"]["action"] in {"publish", "rollback"} and published
    assert body["detail"] is None


def test_swagger_ui_and_redoc_are_served_offline(client: httpx.Client) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "https://" not in html and "http://" not in html, page
        assets = [a for a in html.split('"') if a.startswith("/static-offline-docs/")]
        assert assets, page
        for asset in assets:
            r = client.get(asset)
            assert r.status_code == 200 and len(r.content) > 1000, asset
    spec = client.get("/openapi.json").json()
    top = spec["paths"]["/api/top_movies"]["get"]
    assert {"200", "404", "422", "503"} <= set(top["responses"])
    assert "examples" in str(spec["components"]["schemas"]["TopMovie"])
