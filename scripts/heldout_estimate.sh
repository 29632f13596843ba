#!/usr/bin/env bash
# Held-out estimate of the classifier's quality on dev.csv.
#
# Why: the rules in pipeline/rules/ were tuned on all 300 dev questions, so scores on dev.csv are
# development figures (optimistic), not accuracy. Before the odd post ids were ever looked at, the
# rules and decisions were frozen at commit b62cdfd. This script scores exactly that frozen rule
# set (rules + decide.py from b62cdfd) on the odd half only, and
# appends its rows to pipeline/evaluations/classifier_metrics.csv under the current version, with
# a gold_set text that says what they are. Needs ../shared (the gold set) and the repo's history.
#
# The rest of the code is pinned at 277ab05234777467056d7b6c1cb073999880db6d (the last commit before the classifier was
# optimised for speed), so later refactors cannot break this reconstruction.
#
# Usage: bash scripts/heldout_estimate.sh
set -euo pipefail
source "$(dirname "$0")/frozen_rules_tree.sh"
cd "$work/tree"
# The recorder with today's set names, over the frozen classifier: as of 4b9c40d, the last version
# that imports only what the frozen tree has (later ones also need the trained layer's evaluation).
git -C "$repo" show 4b9c40d:pipeline/evaluation_record.py > pipeline/evaluation_record.py
run() { PYTHONPATH="$work/tree" "$py" -c "import sys; sys.argv=['stackmine']+sys.argv[1:]; from pipeline.cli import main; main()" "$@"; }
run ingest data/sample --db "$work/db.duckdb" >/dev/null 2>&1
run text --db "$work/db.duckdb" >/dev/null
run classify --db "$work/db.duckdb" >/dev/null
run evaluate --gold "$repo/../shared/gold/dev.csv" --half odd --db "$work/db.duckdb"
PYTHONPATH="$work/tree" "$py" "$repo/scripts/record_evaluation.py" --db "$work/db.duckdb" --heldout --target "$repo/pipeline/evaluations/classifier_metrics.csv"
