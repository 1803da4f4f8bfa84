#!/bin/sh
# Stands in for s6-overlay's /init, which refuses to run unless it is PID 1.
[ "$$" = 1 ] || { echo "s6-overlay-suexec: fatal: can only run as pid 1" >&2; exit 100; }
exec "$@"
