#!/bin/sh
# Creates the Redis Cluster once: create-cluster.sh REPLICAS_PER_MASTER host:port...
# Used by docker-compose.yml's `cluster` profile (redis-cluster-init) and by the
# tests (packages/testkit/src/redis-servers.ts). Idempotent: a cluster whose
# first node already reports cluster_state:ok is left as it is. The password,
# if any, comes from REDISCLI_AUTH or the file REDIS_PASSWORD_FILE names (a
# Docker secret); never from the command line.
set -eu
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
  REDISCLI_AUTH=$(cat "$REDIS_PASSWORD_FILE")
  export REDISCLI_AUTH
fi
replicas=$1
shift
addresses=""
for node in "$@"; do
  host=${node%:*}
  port=${node##*:}
  # CLUSTER MEET takes addresses, not names: resolve compose service names.
  ip=$(getent hosts "$host" 2>/dev/null | awk '{ print $1; exit }' || true)
  [ -n "$ip" ] || ip=$host
  tries=0
  until redis-cli -h "$ip" -p "$port" ping 2>/dev/null | grep -q PONG; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "create-cluster: $node does not answer" >&2; exit 1; }
    sleep 1
  done
  addresses="$addresses $ip:$port"
done
first=${addresses# }
first=${first%% *}
if redis-cli -h "${first%:*}" -p "${first##*:}" cluster info | grep -q '^cluster_state:ok'; then
  echo "create-cluster: the cluster exists already"
  exit 0
fi
# shellcheck disable=SC2086 # one word per address
redis-cli --cluster create $addresses --cluster-replicas "$replicas" --cluster-yes
