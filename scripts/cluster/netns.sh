#!/usr/bin/env bash
# Simulated hosts for the cluster scenarios: N Linux network namespaces joined by a bridge, with addresses
# 10.250.X.1..N/24 (X picked at random). Traffic stays inside: the bridge has no address and no route out.
#   netns.sh up N     prints "PREFIX BRIDGE" (namespaces PREFIX-1..N, host i has 10.250.X.i)
#   netns.sh down PREFIX BRIDGE
# NETNS_PREFIX (default aps) starts every name made, so that concurrent runs can tell theirs apart.
# Needs root and iproute2 (apt-get install -y iproute2 when `ip` is missing).
set -euo pipefail
case "${1:-}" in
  up)
    n=${2:?count}
    command -v ip >/dev/null || { apt-get update -qq && apt-get install -y -qq iproute2 >/dev/null; }
    id=$(printf '%04x' $((RANDOM % 65536)))
    p=${NETNS_PREFIX:-aps}
    prefix="$p-$id"; bridge="${p}br$id"; subnet=$((RANDOM % 250 + 1))
    ip link add "$bridge" type bridge
    ip link set "$bridge" up
    for i in $(seq 1 "$n"); do
      ns="$prefix-$i"
      ip netns add "$ns"
      ip link add "${p}${id}h$i" type veth peer name eth0 netns "$ns"
      ip link set "${p}${id}h$i" master "$bridge" up
      ip -n "$ns" addr add "10.250.$subnet.$i/24" dev eth0
      ip -n "$ns" link set eth0 up
      ip -n "$ns" link set lo up
    done
    echo "$prefix $bridge 10.250.$subnet"
    ;;
  down)
    prefix=${2:?prefix}; bridge=${3:?bridge}
    for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix-" || true); do ip netns del "$ns"; done
    ip link del "$bridge" 2>/dev/null || true
    ;;
  *) echo "usage: $0 up N | down PREFIX BRIDGE" >&2; exit 64 ;;
esac
