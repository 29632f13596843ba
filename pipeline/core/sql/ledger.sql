-- Statements of the step ledger (pipeline/core/ledger.py), one per `-- name:` section.

-- name: get
SELECT input_key, output_key, site FROM stage_runs WHERE stage = ? AND scope = ?;

-- name: put
INSERT OR REPLACE INTO stage_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: forget
DELETE FROM stage_runs WHERE stage = ? AND scope = ?;
