#!/bin/sh
# Runs once, when the postgres volume is first initialised
# (/docker-entrypoint-initdb.d). One database and one login role per service,
# so identity cannot read todos and todo-api cannot read users or keys. Each
# role's password is the one in that service's DATABASE_URL secret file
# (/run/secrets/*_database_url, made by infra/make-secrets.sh).
set -eu
password_of() { sed -E 's#^postgres(ql)?://[^:/@]+:([^@]*)@.*$#\2#' "$1"; }
identity_password=$(password_of /run/secrets/identity_database_url)
todo_api_password=$(password_of /run/secrets/todo_api_database_url)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v identity_password="$identity_password" -v todo_api_password="$todo_api_password" <<'SQL'
CREATE ROLE identity LOGIN PASSWORD :'identity_password';
CREATE DATABASE identity OWNER identity;
REVOKE ALL ON DATABASE identity FROM PUBLIC;
CREATE ROLE todo_api LOGIN PASSWORD :'todo_api_password';
CREATE DATABASE todo_api OWNER todo_api;
REVOKE ALL ON DATABASE todo_api FROM PUBLIC;
SQL
