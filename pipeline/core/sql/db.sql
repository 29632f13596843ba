-- Statements of pipeline/core/db.py, one per `-- name:` section.

-- name: setting
-- The current value of one DuckDB setting (db.settings). Parameter: $name.
SELECT current_setting($name);

-- name: set
-- {name} is a DuckDB setting named in code; the value is a parameter.
SET {name} = $value;

-- name: reset
RESET {name};

-- name: sandbox
-- Read-only alone still lets `COPY ... TO` write files and `ATTACH` other databases: switch file
-- access off, then lock the configuration so a statement cannot switch it back on.
SET enable_external_access = false;
SET lock_configuration = true;
