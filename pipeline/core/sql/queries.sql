-- Statements of pipeline/core/queries.py (the named-query runner), one per `-- name:` section.

-- name: sandbox
-- Read-only alone still lets `COPY ... TO` write files and `ATTACH` other databases: switch file
-- access off, then lock the configuration so a query cannot switch it back on.
SET enable_external_access = false;
SET lock_configuration = true;

-- name: set_variable
-- {name} is a parameter name from a query header (\w+), {type} one of queries.PARAM_TYPES.
SET VARIABLE {name} = CAST(? AS {type});

-- name: reset_variable
RESET VARIABLE {name};
