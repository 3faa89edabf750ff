#!/usr/bin/env bash
# The full fuzz run: CASES (1,000,000) generated and mutated preambles through the framing decoder in-process,
# then the same number through a live router (with the echo worker registered at /fuzz/), each answer checked
# against the oracle, while a legitimate client must be served after every PROBE_EVERY (1000) cases.
# Prints counts by outcome; exits non-zero on any wrong answer, hang, or unserved legitimate session.
#   src/AkkaPortShare.Fuzz/run.sh                 # everything, seed 1
#   CASES=100000 SEED=7 src/AkkaPortShare.Fuzz/run.sh
source "$(dirname "$0")/common.sh"
CASES=${CASES:-1000000}
SEED=${SEED:-1}
CONCURRENCY=${CONCURRENCY:-16}
PROBE_EVERY=${PROBE_EVERY:-1000}

build
echo "== decoder: $CASES cases, seed $SEED"
dotnet "$FUZZ" decoder --cases "$CASES" --seed "$SEED"

start_router
start_worker
echo "== router on 127.0.0.1:$PORT (pid $ROUTER_PID), logs in $WORK"
before=$(ls /proc/$ROUTER_PID/fd | wc -l)
status=0
dotnet "$FUZZ" router --port "$PORT" --cases "$CASES" --seed "$SEED" --concurrency "$CONCURRENCY" --probe-every "$PROBE_EVERY" || status=$?
sleep 3
after=$(ls /proc/$ROUTER_PID/fd | wc -l)
echo "router descriptors: $before before, $after after; RSS $(grep VmRSS /proc/$ROUTER_PID/status | awk '{print $2/1024 " MiB"}')"
echo "router log lines: $(grep -c 'Bad preamble' "$WORK/router.log" || true) bad-preamble faults, $(grep -c 'No registration matches' "$WORK/router.log" || true) EndpointNotFound, $(grep -c 'Closing connection' "$WORK/router.log" || true) closes, $(grep -c -E '\[ERROR\]' "$WORK/router.log" || true) errors"
kill -0 "$ROUTER_PID" 2>/dev/null || { echo "the router died"; status=1; }
exit $status
