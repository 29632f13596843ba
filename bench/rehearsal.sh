#!/usr/bin/env bash
# The Stack Overflow rehearsal (issue 14): a generated Stack Overflow-shaped dump through the whole
# chain, each step in its own process, measured from outside (wall, CPU, peak RSS) with the load.
# Usage: bench/rehearsal.sh SCRATCH_DIR [QUESTIONS]     (default 2,000,000: about 12 GB of XML)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
scratch=${1:?scratch folder}; questions=${2:-2000000}
bin=${STACKMINE_BIN:-$here/.venv/bin}
db=$scratch/so.duckdb
mkdir -p "$scratch"
step() {  # name, command...
  local name=$1; shift
  local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
  /usr/bin/time -f "$name	%e s wall	%U+%S CPU-s	%M KB peak RSS" -o "$scratch/$name.time" "$@" > "$scratch/$name.log" 2>&1
  echo "$(cat "$scratch/$name.time")	load before $load, after $(cut -d' ' -f1-3 /proc/loadavg)"
}
[ -d "$scratch/dump/stackoverflow.com" ] || step generate "$bin/python" "$here/bench/generate_so.py" "$scratch/dump" --questions "$questions"
du -sb "$scratch/dump/stackoverflow.com" | awk '{printf "input: %.2f GB of XML\n", $1/1e9}'
step ingest "$bin/stackmine" ingest "$scratch/dump" --db "$db"
step text "$bin/stackmine" text --db "$db"
step classify "$bin/stackmine" classify --db "$db"
step topics "$bin/stackmine" topics --db "$db"
step stages "$bin/stackmine" stages --db "$db"
step export "$bin/stackmine" export rehearsal --db "$db" --out "$scratch/exports"
step report "$bin/stackmine" report --db "$db" --out "$scratch/report"
"$bin/stackmine" query ml_share_per_platform --db "$db"
ls -l "$db" | awk '{printf "database: %.2f GB\n", $5/1e9}'
