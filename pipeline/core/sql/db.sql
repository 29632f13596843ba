-- Statements of pipeline/core/db.py, one per `-- name:` section.

-- name: insert_batch
-- Append one registered Arrow batch to a stage's table; {table} is a table name from code.
INSERT INTO {table} SELECT * FROM replace_scope_batch;

-- name: sandbox
-- Read-only alone still lets `COPY ... TO` write files and `ATTACH` other databases: switch file
-- access off, then lock the configuration so a statement cannot switch it back on.
SET enable_external_access = false;
SET lock_configuration = true;
