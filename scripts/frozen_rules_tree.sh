# Sourced by the held-out scripts: the classifier's rules as frozen at b62cdfd (before the odd post
# ids of dev.csv were looked at) over the code of 277ab05 (the last commit before the classifier was
# optimised for speed), in a temporary worktree at "$work/tree", removed on exit.
# Sets: repo (this repository), py (its venv's python), work (a temporary folder).
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py="$repo/.venv/bin/python"
work=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$work/tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$repo" worktree add -q --detach "$work/tree" 277ab05234777467056d7b6c1cb073999880db6d
(cd "$work/tree" && git checkout -q b62cdfd -- pipeline/rules/platforms.v1.yaml pipeline/rules/ml.v1.yaml \
  pipeline/rules/stages.v1.yaml pipeline/decide.py)
