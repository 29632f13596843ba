#!/usr/bin/env bash
# Held-out estimate of the classifier with its trained layer (see scripts/heldout_learned.py).
#
# The rules frozen at b62cdfd (written on the even post ids of dev.csv only) run in a worktree of
# 277ab05 (as in scripts/heldout_estimate.sh) and dump their hits for every dev question; this tree
# then fits the trained layer on even + 4/5 of the odd half and predicts the rest, five folds x
# five seeds, and adds the seed-0 rows to pipeline/evaluations/classifier_metrics.csv.
# Needs ../shared (the gold set) and the repo's history. Usage: bash scripts/heldout_learned.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
py="$repo/.venv/bin/python"
work=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$work/tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$repo" worktree add -q --detach "$work/tree" 277ab05234777467056d7b6c1cb073999880db6d
(cd "$work/tree" && git checkout -q b62cdfd -- pipeline/rules/platforms.v1.yaml pipeline/rules/ml.v1.yaml \
  pipeline/rules/stages.v1.yaml pipeline/decide.py)
PYTHONPATH="$work/tree" "$py" "$repo/scripts/heldout_learned.py" --dump "$work/hits.jsonl"
PYTHONPATH="$repo" "$py" "$repo/scripts/heldout_learned.py" --dumped "$work/hits.jsonl" \
  --record "$repo/pipeline/evaluations/classifier_metrics.csv"
