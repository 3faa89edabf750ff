#!/usr/bin/env bash
# A foreign Akka system against the router's remoting port: Kill, PoisonPill and Identify (by selection and to
# resolved references), every system message Akka.Remote carries, JSON payloads naming the router's internal
# questions and a gadget type, and forged registrations of the echo worker's address. Runs as user nobody when
# started as root (setpriv), as any local user could. Prints what the attacker got back (any leak fails it), the
# router's refusal lines, and checks that the router is alive and the worker never lost its registration.
#   src/AkkaPortShare.Fuzz/remote-attack.sh
source "$(dirname "$0")/common.sh"
build
start_router
start_worker
HANDOVER=$(sed -n 's/.*hand-over socket \([^ ]*\).*/\1/p' "$WORK/worker.log" | head -1)
AS=()
WHO=$(id -un)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then AS=(setpriv --reuid=65534 --regid=65534 --clear-groups); WHO=nobody; fi
echo "== remote attack on router pid $ROUTER_PID as $WHO, logs in $WORK"
status=0
HOME=/tmp "${AS[@]}" dotnet "$FUZZ" remote-attack --router "akka.tcp://akkaportshare@127.0.0.1:$REMOTING_PORT" \
  --victim-address "net.tcp://+:$PORT/fuzz/" --victim-handover "$HANDOVER" --victim-pid "$WORKER_PID" \
  > "$WORK/attacker.log" 2>&1 || status=$?
grep -A20 '^remote attack:' "$WORK/attacker.log" || { tail -20 "$WORK/attacker.log"; status=1; }
echo "router refusals: $(grep -c 'Refused .* over Akka.Remote' "$WORK/router.log" || true) lines"
grep -o 'Refused [A-Za-z-]* message \[[^]]*\]' "$WORK/router.log" | sort | uniq -c || true
kill -0 "$ROUTER_PID" || { echo "the router died"; status=1; }
if grep -q 'stopped unexpectedly\|Lost the router' "$WORK/router.log" "$WORK/worker.log"; then echo "a core actor stopped or the worker lost the router"; status=1; fi
exit $status
