#!/usr/bin/env bash
# The Barn fault test, long: a 3-node cluster under kill -9, pauses,
# restarts and partitions (as root) while clients write and read, checked
# for linearizability.
# CI runs the same test for 20 s. One command, from anywhere:
#   bench/barn/faults.sh            # 600 s
#   bench/barn/faults.sh 3600       # an hour
#   RUNINK_FAULT_SEED=42 bench/barn/faults.sh 120
# It prints the seed, the operations, the faults by type, the violations
# and the acknowledged writes lost (both must be 0).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
RUNINK_FAULT_SECS="${1:-600}" exec cargo test -p runi --test barn_faults -- --nocapture
