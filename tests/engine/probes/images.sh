#!/usr/bin/env bash
# Builds the images `compose-harden probes` is tested on (tests/probes.rs), each only when
# missing, from the images ../images.sh builds (busybox, and Debian with netcat for `facts`).
# No registry is reached.
set -euo pipefail
NS=compose-harden-test
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

have() { docker image inspect "$1" >/dev/null 2>&1; }
build() { # tag, Dockerfile
  have "$1" && return 0
  docker build -q -t "$1" -f "$2" "$here" >/dev/null 2>"$log" || { cat "$log" >&2; exit 1; }
  echo "built $1"
}

build $NS/probes-static:1 "$here/static.Dockerfile"
build $NS/probes-nc404:1 "$here/nc404.Dockerfile"
