-- Statements of pipeline/core/db.py, one per `-- name:` section.

-- name: insert_batch
-- Append one registered Arrow batch to a stage's table; {table} is a table name from code.
INSERT INTO {table} SELECT * FROM replace_scope_batch;
