#!/usr/bin/env bash
# Starts the network that setup.sh wrote under BASE, waits until the client
# has bootstrapped and the onion service has its address, and prints the
# onion address. Node PIDs are in BASE/*/pid; stop.sh BASE stops them.
#
# usage: start.sh BASE [TIMEOUT_SECONDS]
set -euo pipefail
B=${1:?usage: start.sh BASE [TIMEOUT_SECONDS]}
TIMEOUT=${2:-180}
for n in $(ls "$B" | grep -E '^a[0-9]+$'); do tor -f "$B/$n/torrc" --quiet; done
for n in $(ls "$B" | grep -E '^r[0-9]+$'); do tor -f "$B/$n/torrc" --quiet; done
tor -f "$B/hs/torrc" --quiet
tor -f "$B/client/torrc" --quiet
for _ in $(seq 1 "$TIMEOUT"); do
  if grep -q "Bootstrapped 100%" "$B/client/notice.log" 2>/dev/null && [ -s "$B/hs/hs/hostname" ]; then
    cat "$B/hs/hs/hostname"
    exit 0
  fi
  sleep 1
done
echo "start.sh: the client did not bootstrap within ${TIMEOUT}s; see $B/client/notice.log" >&2
exit 1
