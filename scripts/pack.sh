#!/usr/bin/env bash
# Packs the libraries users consume (Protocol, Interop, Contracts, Worker, ReliableSessions, ServiceModel, Router)
# and the router as a .NET tool into a local feed: scripts/pack.sh [FEED-DIR] [--configuration Release|Debug]
# Consume it with `dotnet add package AkkaPortShare.ServiceModel --source FEED-DIR` (Akka and WCF packages come
# from your usual feed), or `dotnet tool install -g akkaportshare --add-source FEED-DIR`.
set -euo pipefail
cd "$(dirname "$0")/.."
feed=artifacts/feed; configuration=Release; extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --configuration|-c) configuration=$2; shift 2 ;;
    --no-build) extra+=(--no-build); shift ;;
    *) feed=$1; shift ;;
  esac
done
mkdir -p "$feed"
dotnet pack AkkaPortShare.sln -c "$configuration" -o "$feed" "${extra[@]}" -p:ContinuousIntegrationBuild=true
ls -1 "$feed"/*.nupkg
