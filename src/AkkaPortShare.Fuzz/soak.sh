#!/usr/bin/env bash
# Soak: CONNECTIONS (1,000,000) connections through the shared port of a router with the echo worker, bounded by
# MAX_MINUTES (60): 18 in 20 whole sessions (preamble, PreambleAck, one echoed message, End), 1 for an unknown
# address (EndpointNotFound), 1 garbage (closed). Samples the router's and the worker's open descriptors and
# resident memory every SAMPLE_S (30) seconds; exits non-zero if a connection failed or time ran out.
#   src/AkkaPortShare.Fuzz/soak.sh
#   CONNECTIONS=200000 MAX_MINUTES=10 src/AkkaPortShare.Fuzz/soak.sh
source "$(dirname "$0")/common.sh"
CONNECTIONS=${CONNECTIONS:-1000000}
CONCURRENCY=${CONCURRENCY:-16}
MAX_MINUTES=${MAX_MINUTES:-60}
SAMPLE_S=${SAMPLE_S:-30}

build
start_router
start_worker
echo "== soak: $CONNECTIONS connections, router pid $ROUTER_PID, worker pid $WORKER_PID, logs in $WORK"
status=0
dotnet "$FUZZ" soak --port "$PORT" --router-pid "$ROUTER_PID" --worker-pid "$WORKER_PID" --connections "$CONNECTIONS" \
  --concurrency "$CONCURRENCY" --max-minutes "$MAX_MINUTES" --sample-s "$SAMPLE_S" || status=$?
echo "router log: $(grep -c -E '\[ERROR\]' "$WORK/router.log" || true) errors, $(grep -c -E '\[WARNING\]' "$WORK/router.log" || true) warnings"
kill -0 "$ROUTER_PID" 2>/dev/null || { echo "the router died"; status=1; }
exit $status
