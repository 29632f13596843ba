-- Statements of the step ledger (pipeline/core/ledger.py), one per `-- name:` section.

-- name: get
SELECT input_key, output_key, site FROM stage_runs WHERE stage = ? AND scope = ?;

-- name: put
INSERT OR REPLACE INTO stage_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: forget
DELETE FROM stage_runs WHERE stage = ? AND scope = ?;

-- name: forget_step
DELETE FROM stage_runs WHERE stage = ?;

-- name: columns
-- A table's columns in order (empty when it does not exist).
SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' ORDER BY column_index;

-- name: drop_table
-- {table}: a derived table named in a step's DDL, never user input.
DROP TABLE IF EXISTS {table};
