#!/bin/sh
# Starts redis-server with the password of a Docker secret: redis-entrypoint.sh [redis-server args...]
# The password is handed over on stdin as config lines (redis-server's `-` argument), so it is in
# neither docker-compose.yml, nor the environment, nor the command line (`ps`). requirepass guards
# the node, masterauth lets a replica (Cluster) authenticate to its master.
# Used by docker-compose.yml (redis, redis-cluster-*); test/redis-entrypoint.test.ts runs it.
set -eu
file=${REDIS_PASSWORD_FILE:-/run/secrets/redis_password}
[ -r "$file" ] || { echo "redis-entrypoint: cannot read REDIS_PASSWORD_FILE ($file)" >&2; exit 1; }
password=$(cat "$file")
[ -n "$password" ] || { echo "redis-entrypoint: REDIS_PASSWORD_FILE ($file) is empty" >&2; exit 1; }
case $password in
  *[!A-Za-z0-9._~-]*) echo "redis-entrypoint: the password in $file must be letters, digits and . _ ~ - only" >&2; exit 1 ;;
esac
# exec: redis-server replaces this shell (PID 1 in the container, it gets the stop signal itself).
exec redis-server "$@" - <<CONFIG
requirepass $password
masterauth $password
CONFIG
