#!/usr/bin/env bash
# Installs the system packages the local stack needs, only when missing:
# PostgreSQL 15+ server (Debian's postgresql), Java 17, Maven, Chromium, Go 1.24+.
# Safe to repeat; does nothing when everything is present.
set -euo pipefail

need=()
have_pg=0
for d in /usr/lib/postgresql/*/bin; do
  v=$(basename "$(dirname "$d")")
  if [[ "$v" =~ ^[0-9]+$ && "$v" -ge 15 && -x "$d/initdb" ]]; then have_pg=1; fi
done
[[ $have_pg == 1 ]] || need+=(postgresql postgresql-contrib)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
command -v wrk >/dev/null || need+=(wrk)  # the API benchmark's load generator (bench/bench_api.py)
# Headless Chromium for the docs site's browser test (Playwright drives /usr/bin/chromium;
# its own browser download is not reachable here).
command -v chromium >/dev/null || need+=(chromium)

if ((${#need[@]})); then
  if [[ $(id -u) != 0 ]] && ! command -v sudo >/dev/null; then
    echo "install-system: missing ${need[*]} and not root; install them and re-run" >&2
    exit 1
  fi
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  echo "install-system: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  # Debian's package starts a cluster of its own on 5432; ours runs elsewhere.
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
      $SUDO pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
    done
  fi
fi

java_major=$(java -version 2>&1 | sed -nE 's/.*version "([0-9]+).*/\1/p' | head -1)
if [[ -z "$java_major" || "$java_major" -lt 17 ]]; then
  echo "install-system: Java 17+ required (found ${java_major:-none})" >&2
  exit 1
fi
if ! command -v go >/dev/null; then
  echo "install-system: Go 1.24+ is required to build FerretDB (see README)" >&2
  exit 1
fi
