# Shared by run.sh, soak.sh and slow-clients.sh: build, start a router and the echo worker on loopback, clean up.
# Settings (environment): CONFIG (build configuration, Release), PORT / REMOTING_PORT (free ports by default),
# ROUTER_HOCON (extra router settings), WORK (where configs and logs go; a fresh temp folder by default).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONFIG=${CONFIG:-Release}
ROUTER_HOCON=${ROUTER_HOCON:-}
WORK=${WORK:-$(mktemp -d /tmp/aps-fuzz.XXXXXX)}
mkdir -p "$WORK"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
PIDS=()

cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

build() {
  for project in AkkaPortShare.Host AkkaPortShare.Samples.Echo AkkaPortShare.Fuzz; do
    # Optimised whatever the configuration is called (a private name keeps these binaries apart from other builds).
    dotnet build "$ROOT/src/$project" -c "$CONFIG" -p:Optimize=true -v quiet -nologo >/dev/null
  done
  FUZZ="$ROOT/src/AkkaPortShare.Fuzz/bin/$CONFIG/net10.0/aps-fuzz.dll"
  PORT=${PORT:-$(dotnet "$FUZZ" free-port)}
  REMOTING_PORT=${REMOTING_PORT:-$(dotnet "$FUZZ" free-port)}
}

wait_for() { # file pattern seconds
  for _ in $(seq $(( $3 * 10 ))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for /$2/ in $1:" >&2; tail -20 "$1" >&2; exit 1
}

start_router() {
  cat > "$WORK/router.conf" <<CONF
akka-port-share.router { port = $PORT, listen-address = "127.0.0.1" }
akka-port-share.router { $ROUTER_HOCON }
akka { loglevel = INFO, remote.dot-netty.tcp { hostname = "127.0.0.1", port = $REMOTING_PORT } }
CONF
  dotnet "$ROOT/src/AkkaPortShare.Host/bin/$CONFIG/net10.0/akkaportshare.dll" --config "$WORK/router.conf" > "$WORK/router.log" 2>&1 &
  ROUTER_PID=$!
  PIDS+=("$ROUTER_PID")
  wait_for "$WORK/router.log" "Listening on" 60
}

start_worker() {
  dotnet "$ROOT/src/AkkaPortShare.Samples.Echo/bin/$CONFIG/net10.0/echo-worker.dll" \
    --address "net.tcp://+:$PORT/fuzz/" --router "akka.tcp://akkaportshare@127.0.0.1:$REMOTING_PORT" --identity fuzz-worker \
    > "$WORK/worker.log" 2>&1 &
  WORKER_PID=$!
  PIDS+=("$WORKER_PID")
  wait_for "$WORK/worker.log" "Registered net.tcp://+:$PORT/fuzz/ with the router" 60
}
