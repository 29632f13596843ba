-- Statements of pipeline/core/sqlguard.py (checking a user's --where condition), one per `-- name:` section.

-- name: parse
-- DuckDB's own parser, as JSON; parameter 1 is the whole statement to parse (never executed).
SELECT json_serialize_sql(?::VARCHAR);

-- name: probe
-- The statement a condition is parsed inside: the condition follows this text directly. Everything
-- but its WHERE clause must come out exactly as for `probe` + `TRUE`.
SELECT TRUE WHERE

-- name: tables
-- The columns a condition may use, as empty tables in a private in-memory database: sqlguard reads its
-- allow-list of columns from them, and DuckDB's binder checks a condition's types and function
-- arguments against them before it meets real data. Same names and types as the real tables
-- (pipeline/classify/sql/tables.sql, pipeline/text/sql/tables.sql; tests/core/test_sqlguard.py keeps
-- them in step); `--help` and the README list them.
CREATE TABLE question_labels (
    site VARCHAR, dump_id VARCHAR, post_id BIGINT, platforms VARCHAR[], notebook BOOLEAN, ml BOOLEAN,
    stage VARCHAR, stage2 VARCHAR, evidence JSON, classifier_version VARCHAR, p_ml DOUBLE, p_stage DOUBLE[]
);
CREATE TABLE question_text (
    site VARCHAR, dump_id VARCHAR, post_id BIGINT, creation_date TIMESTAMP, title VARCHAR, prose VARCHAR,
    code VARCHAR, inline_code VARCHAR[], links VARCHAR[], tags VARCHAR[], text_version VARCHAR
);

-- name: columns
SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = 'memory' ORDER BY table_name, column_index;

-- name: bind
-- The type of a rendered condition: it must be BOOLEAN. {condition} is rendered by sqlguard from
-- the checked tree (identifiers and operators from code; every value a `?` parameter).
SELECT ({condition}) AS condition FROM question_labels AS l JOIN question_text AS t USING (site, post_id) LIMIT 0;
