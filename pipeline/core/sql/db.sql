-- Statements of pipeline/core/db.py, one per `-- name:` section.

-- name: attach
-- The database file a writing connection opens (db._writer), with row groups of 65,536 rows (why:
-- the comment above db._WRITERS). Parameter: the file's path. The catalog is named for the
-- project, not for the file.
ATTACH ? AS stackmine (ROW_GROUP_SIZE 65536);

-- name: use
-- Make the attached file the default catalog of this connection and of every cursor made from it
-- (a cursor starts in the instance's default, which DETACH of the in-memory one passes on).
USE stackmine;
DETACH memory;

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
