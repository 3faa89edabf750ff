#!/usr/bin/env bash
# Slowloris: ATTACKERS (2000) connections trickle a never-ending preamble one byte every TRICKLE_MS (1000) ms and
# reconnect RECONNECT_MS (1000) ms after the router drops them, for ATTACK_S (60) s, against max-pending-connections
# 100 and the default receive-timeout (30 s), while a legitimate client opens a connection every 50 ms. Prints
# the legitimate client's connect→PreambleAck latency without and under the attack, how many it could not open,
# and how long the router kept attackers. RECONNECT_MS=100 makes it a connection flood. Attackers connect from
# 127.0.0.1-4 and the legitimate client from 127.0.0.200; SHARED=1 puts it on the attackers' addresses, so the
# router's per-address fairness cannot tell them apart.
#   src/AkkaPortShare.Fuzz/slow-clients.sh
source "$(dirname "$0")/common.sh"
ATTACKERS=${ATTACKERS:-2000}
TRICKLE_MS=${TRICKLE_MS:-1000}
RECONNECT_MS=${RECONNECT_MS:-1000}
ATTACK_S=${ATTACK_S:-60}
BASELINE_S=${BASELINE_S:-10}
ROUTER_HOCON=${ROUTER_HOCON:-max-pending-connections = 100}

build
start_router
start_worker
echo "== slow clients: $ATTACKERS attackers against router pid $ROUTER_PID ($ROUTER_HOCON), logs in $WORK"
status=0
dotnet "$FUZZ" slow-clients --port "$PORT" --attackers "$ATTACKERS" --trickle-ms "$TRICKLE_MS" --reconnect-ms "$RECONNECT_MS" \
  --attack-s "$ATTACK_S" --baseline-s "$BASELINE_S" --router-pid "$ROUTER_PID" ${SHARED:+--legit-shares-addresses} || status=$?
echo "router log: $(grep -c 'shed: max-pending-connections' "$WORK/router.log" || true) shed, $(grep -c 'within receive-timeout' "$WORK/router.log" || true) timed out"
exit $status
