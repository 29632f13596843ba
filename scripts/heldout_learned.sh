#!/usr/bin/env bash
# Held-out estimate of the classifier with its trained layer (see scripts/heldout_learned.py).
#
# The rules frozen at b62cdfd (written on the even post ids of dev.csv only) run in a worktree of
# 277ab05 (as in scripts/heldout_estimate.sh) and dump their hits for every dev question; this tree
# then fits the trained layer on even + 4/5 of the odd half and predicts the rest, five folds x
# five seeds, and adds the seed-0 rows to pipeline/evaluations/classifier_metrics.csv.
# Needs ../shared (the gold set) and the repo's history. Usage: bash scripts/heldout_learned.sh
set -euo pipefail
source "$(dirname "$0")/frozen_rules_tree.sh"
PYTHONPATH="$work/tree" "$py" "$repo/scripts/heldout_learned.py" --dump "$work/hits.jsonl"
PYTHONPATH="$repo" "$py" "$repo/scripts/heldout_learned.py" --dumped "$work/hits.jsonl" \
  --record "$repo/pipeline/evaluations/classifier_metrics.csv"
