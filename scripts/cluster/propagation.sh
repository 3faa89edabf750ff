#!/usr/bin/env bash
# Issue 15: how soon a registration and its removal reach the other router of a cluster.
# Two routers (A: the seed and arbiter, B) and a worker host, each a network namespace (netns.sh). Each round starts
# an echo worker on the third host with ADDRESSES base addresses registered with A (by registration-secret, its
# hand-over socket on a private mount: relayed, as from another machine), waits until all are registered, then
# stops it with SIGTERM (it unregisters every address). From the routers' log timestamps (one clock: one machine):
#   registration: A's "Claiming X in the cluster" (the Register arrived) -> B's "Registered X ... of router A (relayed)"
#                 and -> A's "Registered X ... granted by the cluster" (the claim's round trip through the arbiter)
#   removal:      A's "Unregistered X for worker"               -> B's "Unregistered X (a worker of another router)"
# REGISTER_WITH=2: the worker registers with B instead (not the arbiter: its claims cross the network twice), and
# the figures read "B -> A".
# STOP=kill: the worker is killed (SIGKILL) instead of stopped: its death, from the kill (the script's clock, the same
#   machine's) to its addresses out of the routes of its router and of the other router (removed, or, for a worker
#   member, no longer routed to once its association closed and its data endpoint refused: "Not routing to worker
#   node"), and to its registrations removed (the failure detector's verdict).
# LOCAL=1: the worker runs on its router's host with its hand-over channel (the router knows of a death at once);
#   otherwise on a third host, relayed. MEMBER=1: the worker joins the cluster (role worker), so a remote worker's
#   death is found by Akka.Cluster's failure detector (akka-port-share.cluster.failure-detection) rather than by
#   Akka.Remote's watch (worker-acceptable-heartbeat-pause).
# SETTLE (seconds, default 2 with MEMBER=1, else 0): how long a worker member runs registered before it is stopped.
#   A router heartbeats a member only once it has seen it Up (gossip, up to a second or two after it joined), and
#   only a router associated with it sees its connections close; a worker killed before then is noticed by that
#   router at its next message to it (up to about 1 s). Real workers live longer than that.
# PORT (default 18808): the routers' net.tcp port; their remoting port is PORT + 1.
# Usage (root): [REGISTER_WITH=1|2] [STOP=term|kill] [LOCAL=1] [MEMBER=1] scripts/cluster/propagation.sh [ROUNDS=10] [ADDRESSES=10] [Debug|Release]
set -euo pipefail
rounds=${1:-10}; per=${2:-10}; conf=${3:-Debug}
via=${REGISTER_WITH:-1}; other=$((3 - via)); stop=${STOP:-term}; local=${LOCAL:-0}; member=${MEMBER:-0}
port=${PORT:-18808}; rport=$((port + 1)); whost=3; [[ $local == 1 ]] && whost=$via
settle=${SETTLE:-$([[ $member == 1 ]] && echo 2 || echo 0)}
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/../.." && pwd)
router="$repo/src/AkkaPortShare.Host/bin/$conf/net10.0/akkaportshare.dll"
worker="$repo/src/AkkaPortShare.Samples.Echo/bin/$conf/net10.0/echo-worker.dll"
[[ -f $router && -f $worker ]] || { echo "build the Host and Samples.Echo ($conf) first" >&2; exit 66; }
dir=$(mktemp -d /tmp/aps-propagation-XXXX)
read -r prefix bridge net < <("$here/netns.sh" up 3)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; "$here/netns.sh" down "$prefix" "$bridge"; }
trap cleanup EXIT
for i in 1 2; do
  cat > "$dir/r$i.conf" <<CONF
akka-port-share.router { port = $port, listen-address = "$net.$i", registration-secret = "s", control-socket = off }
akka.remote.dot-netty.tcp { hostname = "$net.$i", port = $rport }
akka-port-share.cluster { enabled = on, require-tls = off, seed-nodes = ["akka.tcp://akkaportshare@$net.1:$rport"] }
CONF
  (cd "$dir" && exec ip netns exec "$prefix-$i" dotnet "$router" --config "$dir/r$i.conf" > "$dir/r$i.log" 2>&1) &
  pids+=($!)
  timeout 60 bash -c "until grep -q 'Listening on' '$dir/r$i.log'; do sleep 0.2; done"
done
timeout 60 bash -c "until grep -q 'Leader is moving node .*$net.2:$rport. to .Up.' '$dir/r1.log'; do sleep 0.2; done"
mkdir -p "$dir/handover"
cat > "$dir/w.conf" <<CONF
akka-port-share.worker { registration-secret = "s", data-endpoint.hostname = "$net.$whost", handover-directory = "$dir/handover" }
akka.remote.dot-netty.tcp { hostname = "$net.$whost", port = 0 }
CONF
[[ $member == 1 ]] && cat >> "$dir/w.conf" <<CONF
akka-port-share.cluster { enabled = on, require-tls = off, seed-nodes = ["akka.tcp://akkaportshare@$net.1:$rport"] }
CONF
: > "$dir/kills.log"
for r in $(seq 1 "$rounds"); do
  args=()
  for a in $(seq 1 "$per"); do args+=(--address "net.tcp://+:$port/r$r/a$a/"); done
  if [[ $local == 1 ]]; then
    (cd "$dir" && exec ip netns exec "$prefix-$whost" \
      dotnet "$worker" --router "akka.tcp://akkaportshare@$net.$via:$rport" --config "$dir/w.conf" "${args[@]}" > "$dir/w$r.log" 2>&1) &
  else
    (cd "$dir" && exec ip netns exec "$prefix-3" unshare --mount --propagation private sh -c \
      'mount -t tmpfs -o mode=0700 aps "$0" && shift && exec "$@"' "$dir/handover" -- \
      dotnet "$worker" --router "akka.tcp://akkaportshare@$net.$via:$rport" --config "$dir/w.conf" "${args[@]}" > "$dir/w$r.log" 2>&1) &
  fi
  wpid=$!
  timeout 60 bash -c "until [ \$(grep -c 'Registered net.tcp://+:$port/r$r/.* with the router' '$dir/w$r.log') -ge $per ]; do sleep 0.2; done"
  timeout 30 bash -c "until [ \$(grep -c 'Registered net.tcp://+:$port/r$r/.* of router' '$dir/r$other.log') -ge $per ]; do sleep 0.2; done"
  sleep "$settle"
  if [[ $stop == kill ]]; then
    # The dotnet process itself (the subshell execs it, possibly under ip netns exec / unshare / sh, which exec too).
    echo "r$r $(date +%H:%M:%S.%3N)" >> "$dir/kills.log"; kill -KILL "$wpid"
  else
    kill -TERM "$wpid"
  fi
  wait "$wpid" || true
  timeout 30 bash -c "until [ \$(grep -c 'Unregistered net.tcp://+:$port/r$r/.*(a worker of another router)' '$dir/r$other.log') -ge $per ]; do sleep 0.2; done"
  echo "round $r of $rounds done"
done
python3 - "$dir/r$via.log" "$dir/r$other.log" "$dir/kills.log" "$port" <<'PY'
import re, sys, statistics
def times(path, pattern):
    out = {}
    for line in open(path, errors="replace"):
        m = re.match(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) ", line)
        a = re.search(pattern, line)
        if m and a:
            h, mi, s, ms = map(int, m.groups())
            out.setdefault(a.group(1), ((h * 60 + mi) * 60 + s) * 1000 + ms)
    return out
a, b, kills, port = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def ms(t):
    h, mi, rest = t.split(":"); s, m = rest.split(".")
    return ((int(h) * 60 + int(mi)) * 60 + int(s)) * 1000 + int(m)
killed = {f"net.tcp://+:{port}/{r}/": ms(t) for r, t in (l.split() for l in open(kills) if l.strip())}
def gone(path, pattern):
    # One line names every address of the dead worker ("... removed N address(es) X, Y"): each gets its time.
    out = {}
    for line in open(path, errors="replace"):
        m = re.match(r"(\d\d:\d\d:\d\d\.\d{3}) ", line)
        if m and re.search(pattern, line):
            for x in re.findall(rf"net\.tcp://\+:{port}/r\d+/a\d+/", line): out.setdefault(x, ms(m.group(1)))
    return out
def at_kill(addresses):
    return {x: killed[p] for x in addresses for p in killed if x.startswith(p)}
pairs = {}
if killed:
    a_gone = gone(a, r"is gone")
    b_gone = gone(b, r"Unregistered \S+ \(a worker of another router\)")
    # Out of the routes: removed, or earlier, not routed to once its association closed and it did not answer.
    silent = r"Not routing to worker node"
    a_out = gone(a, r"is gone|" + silent)
    b_out = gone(b, r"Unregistered \S+ \(a worker of another router\)|" + silent)
    pairs["death (killed -> out of A's routes)"] = (at_kill(a_out), a_out)
    pairs["death (killed -> out of B's routes)"] = (at_kill(b_out), b_out)
    pairs["death (killed -> registrations removed on A)"] = (at_kill(a_gone), a_gone)
    pairs["death (killed -> registrations removed on B)"] = (at_kill(b_gone), b_gone)
pairs |= {
    "registration (claim on A -> visible on B)": (times(a, r"Claiming (\S+) in the cluster"), times(b, r"Registered (\S+) for worker pid \d+ at .* of router")),
    "registration (claim on A -> granted on A)": (times(a, r"Claiming (\S+) in the cluster"), times(a, r"Registered (\S+) for worker .*granted by the cluster")),
    "removal (unregistered on A -> gone on B)": (times(a, r"Unregistered (\S+) for worker"), times(b, r"Unregistered (\S+) \(a worker of another router\)")),
}
for kind, (ta, tb) in pairs.items():
    d = sorted(tb[k] - ta[k] for k in ta if k in tb)
    if not d: print(f"{kind}: no pairs"); continue
    p = lambda q: d[min(len(d) - 1, int(q * len(d)))]
    print(f"{kind}: n={len(d)} p50={statistics.median(d):.0f} ms p90={p(0.9)} ms max={d[-1]} ms (log timestamps)")
PY
echo "logs: $dir"
