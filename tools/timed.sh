#!/usr/bin/env bash
# Run a step of `make test` and say how long it took, so a slow step shows in every log.
# Usage: tools/timed.sh NAME COMMAND [ARGS...]
set -euo pipefail
name=$1
shift
start=$(date +%s)
"$@"
echo "time: ${name} took $(($(date +%s) - start)) s"
