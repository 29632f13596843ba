-- Statements of pipeline/core/comments.py, one per `-- name:` section. In comment_table and
-- comment_column, the table and column names come from code and the text is a quoted literal from the
-- DDL files (COMMENT ON binds no parameters).

-- name: current_comments
-- Every table's comment (column '') and every column's, of the main schema.
SELECT table_name, '' AS column_name, comment FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = 'main'
UNION ALL
SELECT table_name, column_name, comment FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = 'main';

-- name: comment_table
COMMENT ON TABLE {table} IS {text};

-- name: comment_column
COMMENT ON COLUMN {table}.{column} IS {text};

-- name: table_comment
SELECT comment FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $table;

-- name: column_comments
SELECT column_name, data_type, is_nullable, comment
FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $table
ORDER BY column_index;
