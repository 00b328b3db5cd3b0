#!/bin/sh
# The postgres image runs this once, when it initialises an empty data volume (never again).
# Temporal gets its own role owning its two databases; the event store gets an owner role and
# its database. Neither role is a superuser nor may create databases or roles. The engine's
# application and auditor roles are made by 20-uep-roles.sh.
set -eu

: "${TEMPORAL_DB_PASSWORD:?set TEMPORAL_DB_PASSWORD in deploy/env/postgres.env}"
: "${UEP_DB_PASSWORD:?set UEP_DB_PASSWORD in deploy/env/postgres.env}"

# psql substitutes :'name' as a quoted literal, so a password needs no escaping here.
psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set temporal_password="$TEMPORAL_DB_PASSWORD" \
    --set uep_password="$UEP_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;

CREATE ROLE uep_owner LOGIN PASSWORD :'uep_password';
CREATE DATABASE uep OWNER uep_owner;
-- Nobody but the owner connects to the event store unless granted later.
REVOKE CONNECT, TEMPORARY ON DATABASE uep FROM PUBLIC;
SQL
