#!/usr/bin/env bash
# Stops every node of the network under BASE (by the PIDs tor wrote).
# usage: stop.sh BASE
B=${1:?usage: stop.sh BASE}
for f in "$B"/*/pid; do
  [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
done
exit 0
