#!/bin/sh
# One-shot job on temporalio/admin-tools: wait for the cluster, then make the engine's namespace
# exist with the declared retention and every search attribute the workflows upsert. Every step
# converges on the declared state, so the job can run on each `docker compose up`.
set -eu

: "${TEMPORAL_ADDRESS:?}" "${NAMESPACE:?}" "${NAMESPACE_RETENTION:?}" "${SEARCH_ATTRIBUTES:?}"
ATTEMPTS=${WAIT_ATTEMPTS:-60}
PAUSE=${WAIT_SECONDS:-2}

# Run a command until it succeeds, at most ATTEMPTS times; the last failure's output is shown.
retry() {
    what=$1
    shift
    n=1
    until out=$("$@" 2>&1); do
        if [ "$n" -ge "$ATTEMPTS" ]; then
            echo "namespace job: $what failed after $n attempts: $out" >&2
            exit 1
        fi
        n=$((n + 1))
        sleep "$PAUSE"
    done
}

t() {
    temporal --address "$TEMPORAL_ADDRESS" "$@"
}

retry "waiting for the cluster at $TEMPORAL_ADDRESS" t operator cluster health

if t operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
    retry "setting the retention of $NAMESPACE" \
        t operator namespace update --namespace "$NAMESPACE" --retention "$NAMESPACE_RETENTION"
    echo "namespace job: $NAMESPACE exists; retention set to $NAMESPACE_RETENTION"
else
    retry "creating $NAMESPACE" \
        t operator namespace create --namespace "$NAMESPACE" --retention "$NAMESPACE_RETENTION"
    echo "namespace job: created $NAMESPACE (retention $NAMESPACE_RETENTION)"
fi

# SEARCH_ATTRIBUTES is "Name=Type Name=Type ...". The server skips a name it already has and the
# CLI refuses one registered with another type, so re-running adds only what is missing.
set --
for pair in $SEARCH_ATTRIBUTES; do
    set -- "$@" --name "${pair%%=*}" --type "${pair#*=}"
done
# A namespace created a moment ago may not be visible to every frontend yet: retry.
retry "registering search attributes in $NAMESPACE" \
    t operator search-attribute create --namespace "$NAMESPACE" "$@"
echo "namespace job: search attributes registered: $SEARCH_ATTRIBUTES"
