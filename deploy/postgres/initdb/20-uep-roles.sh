#!/bin/sh
# Runs once, after 10-uep-databases.sh, on an empty data volume: the event store's two login
# roles besides its owner (docs/operations.md, "Least privilege"). Migration 0040, run by
# `uep migrate` as uep_owner, grants them exactly what they may do:
#   uep_app      the worker and the projector: reads, appends only through the store's
#                SECURITY DEFINER functions, keeps the read models; no UPDATE, DELETE or
#                TRUNCATE on events, cannot disable a trigger
#   uep_auditor  reads, nothing else
# On a volume initialised before this script existed, run it once by hand:
#   docker compose exec postgresql sh /docker-entrypoint-initdb.d/20-uep-roles.sh
set -eu

: "${UEP_APP_DB_PASSWORD:?set UEP_APP_DB_PASSWORD in deploy/env/postgres.env}"
: "${UEP_AUDITOR_DB_PASSWORD:?set UEP_AUDITOR_DB_PASSWORD in deploy/env/postgres.env}"

psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set app_password="$UEP_APP_DB_PASSWORD" \
    --set auditor_password="$UEP_AUDITOR_DB_PASSWORD" <<'SQL'
CREATE ROLE uep_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE ROLE uep_auditor LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'auditor_password';
-- CONNECT only; what they may do inside is granted by the migrations the owner runs.
GRANT CONNECT ON DATABASE uep TO uep_app, uep_auditor;
SQL
