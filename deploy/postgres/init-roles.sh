#!/bin/bash
# Runs once, when the PostgreSQL volume is first created (docker-entrypoint-initdb.d): the owner
# (POSTGRES_USER, runs migrations) and the application's role, which owns nothing (core/db_roles.py).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE nuanxin_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '${APP_DB_PASSWORD:?set APP_DB_PASSWORD in .env}';
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
