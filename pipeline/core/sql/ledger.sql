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

-- name: primary_keys
-- The declared PRIMARY KEY of each table that has one: (table, [columns]).
SELECT table_name, constraint_column_names FROM duckdb_constraints()
WHERE schema_name = 'main' AND constraint_type = 'PRIMARY KEY' ORDER BY table_name;

-- name: set_aside
-- {table}: a derived table named in a step's DDL, rekeyed with its rows (pipeline/steps.py).
ALTER TABLE {table} RENAME TO {table}_rekeyed;

-- name: refill
INSERT INTO {table} SELECT * FROM {table}_rekeyed;
