#!/bin/sh
# One-shot job on temporalio/admin-tools: bring Temporal's two PostgreSQL schemas to the version
# this admin-tools tag (= the server tag) ships. Safe on every start: on a new database it
# records version 0.0 and applies every step; on an existing one setup-schema sees the newer
# version and leaves it, and update-schema applies only the steps not yet recorded.
# The databases themselves come from the postgres init script: the temporal role may not create
# databases, so this job does not try to.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${POSTGRES_PWD:?}"

# temporal-sql-tool reads its connection from SQL_* variables; map the server's names onto them
# so one env file (deploy/env/temporal.env) serves the job and the server alike.
export SQL_PLUGIN=postgres12
export SQL_HOST="$POSTGRES_SEEDS"
export SQL_PORT="${DB_PORT:-5432}"
export SQL_USER="$POSTGRES_USER"
export SQL_PASSWORD="$POSTGRES_PWD"

schemas=/etc/temporal/schema/postgresql/v12

for target in temporal:temporal temporal_visibility:visibility; do
    database=${target%%:*}
    folder=${target#*:}
    echo "schema job: $database"
    temporal-sql-tool --database "$database" setup-schema -v 0.0
    temporal-sql-tool --database "$database" update-schema -d "$schemas/$folder/versioned"
done
echo "schema job: both schemas are current"
