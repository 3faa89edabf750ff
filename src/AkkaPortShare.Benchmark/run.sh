#!/usr/bin/env bash
# The benchmark in one command: installs HAProxy if missing (Debian's package), builds the router, the sample
# worker and the benchmark, then runs every scenario on every path (direct, router hand-over, router relay,
# HAProxy) against the same worker, and writes artifacts/benchmark/results.{md,json}.
#
#   src/AkkaPortShare.Benchmark/run.sh                 full run (5 repetitions, about 15 minutes on 2 cores)
#   src/AkkaPortShare.Benchmark/run.sh --quick         smoke: seconds per path, asserts only that every path works
#   src/AkkaPortShare.Benchmark/run.sh --repetitions 3 --paths direct,handover   (see --help)
#
# Options: --configuration Release|Debug (default Release); everything else goes to the benchmark program.
# Exit status: 0 when every path worked, non-zero otherwise. Every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

configuration=Release
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --configuration) configuration="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

# 1. HAProxy, from the distribution's packages, only when it is not there yet.
haproxy_bin=$(command -v haproxy || true)
[ -z "$haproxy_bin" ] && [ -x /usr/sbin/haproxy ] && haproxy_bin=/usr/sbin/haproxy
if [ -z "$haproxy_bin" ]; then
  echo "run.sh: installing haproxy (apt-get)"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends haproxy >/dev/null
  haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)
fi
version=$("$haproxy_bin" -v 2>&1) || { echo "run.sh: $haproxy_bin does not run" >&2; exit 2; }
echo "run.sh: ${version%%$'\n'*}"

# 2. Descriptors: 10,000 held connections need two per connection in a relaying router or HAProxy.
#    Every process started below inherits this limit.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
echo "run.sh: open-file limit $(ulimit -n)"

# 3. Build (output shown only when a build fails).
for project in src/AkkaPortShare.Host src/AkkaPortShare.Samples.Echo src/AkkaPortShare.Benchmark; do
  if ! output=$(dotnet build "$project" -c "$configuration" -nologo 2>&1); then
    echo "$output"; echo "run.sh: building $project failed" >&2; exit 2
  fi
done
echo "run.sh: built router, sample worker and benchmark ($configuration)"

# 4. Run. The benchmark starts and stops the router, the worker and HAProxy itself; it runs in its own process
#    group so that the trap below can stop it and everything it started, whatever way this script ends.
bench_pid=""
cleanup() {
  if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM -- "-$bench_pid" 2>/dev/null || kill -TERM "$bench_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$bench_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$bench_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setsid dotnet "src/AkkaPortShare.Benchmark/bin/$configuration/net10.0/AkkaPortShare.Benchmark.dll" \
  --repo-root . --haproxy "$haproxy_bin" --haproxy-config config/haproxy.cfg ${args[@]+"${args[@]}"} &
bench_pid=$!
status=0
wait "$bench_pid" || status=$?
bench_pid=""
exit "$status"
