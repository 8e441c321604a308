#!/usr/bin/env bash
# Builds FerretDB (MongoDB wire protocol server) from the Go module proxy.
# Usage: scripts/build-ferretdb.sh OUTPUT_BINARY
#
# FerretDB's build/version package embeds version.txt, which its own build
# generates and the module zip lacks; without it the binary panics at start.
# So we vendor the pinned modules into a scratch dir, write that one file
# there, and build from the vendor tree. Nothing of FerretDB enters git.
set -euo pipefail
out=$(realpath -m "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -nE 's#^require github.com/FerretDB/FerretDB (v[0-9.]+)$#\1#p' "$here/tools/ferretdb/go.mod")
work="$here/.local/build/ferretdb"
rm -rf "$work" && mkdir -p "$work"
cp "$here"/tools/ferretdb/{go.mod,go.sum,tools.go} "$work/"
cd "$work"
GOFLAGS=-mod=mod go mod vendor
echo "$version" > vendor/github.com/FerretDB/FerretDB/build/version/version.txt
mkdir -p "$(dirname "$out")"
go build -mod=vendor -trimpath -o "$out" github.com/FerretDB/FerretDB/cmd/ferretdb
rm -rf "$work"
# Prove the binary starts; print its first line (no `head`: SIGPIPE under pipefail).
"$out" --version | sed -n 1p
