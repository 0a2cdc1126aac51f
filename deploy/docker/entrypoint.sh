#!/bin/sh
# kvbench image entry point: run one service, chosen by the first argument or KVBENCH_SERVICE.
# Each service reads its configuration from the environment (validated at start).
set -eu
root="${KVBENCH_ROOT:-/opt/kvbench}"
service="${1:-${KVBENCH_SERVICE:-}}"
[ $# -gt 0 ] && shift
case "$service" in
  workload-api|aggregator|host-agent)
    exec node "$root/services/$service/dist/src/server.js" "$@" ;;
  kvbench|cli)
    exec node "$root/apps/cli/dist/src/main.js" "$@" ;;
  *)
    echo "usage: <image> workload-api | aggregator | host-agent | kvbench [args]" >&2
    echo "       (or set KVBENCH_SERVICE); got: '${service}'" >&2
    exit 64 ;;
esac
