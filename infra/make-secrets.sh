#!/bin/sh
# Creates the secret files docker-compose.yml mounts (its top-level `secrets:`), each
# from 32 random bytes as hex: infra/make-secrets.sh [directory, default ./secrets]
# A file that exists already is kept (rerunning never rotates anything). The directory
# is for the operator only (0700); the files are 0644 because compose bind-mounts them
# and each container reads them as its own user (node, postgres, redis).
# test/compose.test.ts runs this script and feeds its output to every service's loadConfig.
set -eu
dir=${1:-./secrets}
mkdir -p "$dir"
chmod 0700 "$dir"
random() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
write() {
  [ -e "$dir/$1.txt" ] && return 0
  (umask 022 && printf '%s\n' "$2" > "$dir/$1.txt")
  echo "make-secrets: wrote $dir/$1.txt"
}
write postgres_password "$(random)"
write redis_password "$(random)"
write better_auth_secret "$(random)"
write key_encryption_key "$(random)"
write admin_token "$(random)"
# The per-service database roles: the URL is the secret (infra/postgres/create-databases.sh takes
# each role's password from it, so the two cannot disagree).
write identity_database_url "postgres://identity:$(random)@postgres:5432/identity"
write todo_api_database_url "postgres://todo_api:$(random)@postgres:5432/todo_api"
