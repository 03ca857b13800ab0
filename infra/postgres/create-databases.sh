#!/bin/sh
# Runs once, when the postgres volume is first initialised
# (/docker-entrypoint-initdb.d). One database and one login role per service,
# so identity cannot read todos and todo-api cannot read users or keys.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v identity_password="$IDENTITY_DB_PASSWORD" -v todo_api_password="$TODO_API_DB_PASSWORD" <<'SQL'
CREATE ROLE identity LOGIN PASSWORD :'identity_password';
CREATE DATABASE identity OWNER identity;
REVOKE ALL ON DATABASE identity FROM PUBLIC;
CREATE ROLE todo_api LOGIN PASSWORD :'todo_api_password';
CREATE DATABASE todo_api OWNER todo_api;
REVOKE ALL ON DATABASE todo_api FROM PUBLIC;
SQL
