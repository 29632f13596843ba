-- Statements of pipeline/core/queries.py (the named-query runner), one per `-- name:` section.

-- name: set_variable
-- {name} is a parameter name from a query header (\w+), {type} one of queries.PARAM_TYPES.
SET VARIABLE {name} = CAST(? AS {type});

-- name: reset_variable
RESET VARIABLE {name};
