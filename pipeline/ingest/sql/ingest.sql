-- Statements of pipeline/ingest, one per `-- name:` section. The loading ones run inside the
-- run's one transaction (see load.ingest), so a run's sites are replaced whole or not at all.
-- {table} is an identifier from the fixed tuple load.DUMP_TABLES and {name} a DuckDB setting
-- named in code (identifiers cannot be bound parameters); every value is a parameter.

-- name: describe
-- Columns and types of a dump table: the parser derives its Arrow schema from the DDL.
DESCRIBE {table};

-- name: setting
SELECT current_setting($name);

-- name: set
SET {name} = $value;

-- name: loaded_dump
-- The snapshot of a site in the database, and how current it is (NULLs when none).
SELECT any_value(dump_id), max(newest_date) FROM dumps WHERE site = $site;

-- name: loaded_dump_of
-- The same, dated by some of the snapshot's dump files only ($files: Posts, Users, ...): with
-- `ingest --tables` two snapshots are compared on the files both hold.
SELECT any_value(dump_id), max(newest_date) FILTER (WHERE list_contains($files::VARCHAR[], file))
FROM dumps WHERE site = $site;

-- name: loaded_files
-- The files of a site already in the database, to skip re-ingesting an identical dump.
SELECT file, source_sha256, pipeline_version FROM dumps WHERE site = $site ORDER BY file, source_sha256;

-- name: loaded_sources
-- The source files of a site's snapshot and their checksums (which exports `--add` may skip).
SELECT source, source_sha256 FROM dumps WHERE site = $site ORDER BY source;

-- name: loaded_file_dates
-- (file, sha256, newest date) of each file of a site's snapshot: its dump_id is computed from them.
SELECT file, sha256, newest_date FROM dumps WHERE site = $site;

-- name: loaded_posts
-- A site's posts as the parser makes them (the columns read from a file, in table order), so
-- exports added with --add are compared with them row by row.
SELECT * EXCLUDE (site, dump_id, tags, is_watermark) FROM posts WHERE site = $site ORDER BY id;

-- name: set_dump_id
-- Every row of a site joins the snapshot its exports now form (after --add).
UPDATE {table} SET dump_id = $dump_id WHERE site = $site;

-- name: dumps_key
-- The key columns of the dumps table: (site, file) in databases made before several Data Explorer
-- exports of a site could form one snapshot, (site, file, source_sha256) since.
SELECT constraint_column_names FROM duckdb_constraints()
WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'dumps'
  AND constraint_type = 'PRIMARY KEY';

-- name: rename_dumps
ALTER TABLE dumps RENAME TO dumps_keyed_by_file;

-- name: copy_dumps
INSERT INTO dumps BY NAME SELECT * FROM dumps_keyed_by_file;

-- name: drop_old_dumps
DROP TABLE dumps_keyed_by_file;

-- name: delete_site
DELETE FROM {table} WHERE site = $site;

-- name: load_parts
-- The Arrow IPC parts staged by the parser threads, as one record-batch stream named `parts`
-- (DuckDB reads it from the caller's frame); columns match the table by name, missing ones
-- (is_watermark, is_bot) take their defaults.
INSERT INTO {table} BY NAME
SELECT $site AS site, $dump_id AS dump_id, * FROM parts;

-- name: load_post_tags
-- One row per (post, tag), position 1-based in the order the dump lists the tags.
INSERT INTO post_tags (site, dump_id, post_id, tag, position)
SELECT site, dump_id, id, unnest(tags), unnest(range(1, len(tags) + 1))
FROM posts
WHERE site = $site AND len(tags) > 0;

-- name: flag_watermarks
-- Rule: pipeline/ingest/rules/watermarks.v1.csv (id and owner match, and the post has no history).
UPDATE posts SET is_watermark = TRUE
FROM read_csv($rules, header = true, all_varchar = true) AS rule
WHERE posts.site = $site
  AND posts.id = CAST(rule.post_id AS BIGINT)
  AND posts.owner_user_id = CAST(rule.owner_user_id AS BIGINT)
  AND NOT EXISTS (SELECT 1 FROM post_history AS h WHERE h.site = $site AND h.post_id = posts.id);

-- name: flag_bots
-- Rule: pipeline/ingest/rules/bots.v1.csv (site '*' means every site).
UPDATE users SET is_bot = TRUE
FROM read_csv($rules, header = true, all_varchar = true) AS bot
WHERE users.site = $site
  AND (bot.site = '*' OR bot.site = users.site)
  AND users.id = CAST(bot.user_id AS BIGINT);

-- name: record_dump
INSERT INTO dumps BY NAME SELECT * FROM files;

-- name: table_rows
SELECT count(*) FROM {table} WHERE site = $site;

-- name: sites
-- Every site with an ingested snapshot.
SELECT DISTINCT site FROM dumps ORDER BY site;

-- name: fingerprint
-- What the ledger (pipeline/core/ledger.py) checks of ingest's output for a list of sites: a manual
-- ingest of another snapshot, or a deleted site, changes it and everything downstream recomputes.
SELECT site, file, sha256, pipeline_version, rows
FROM dumps WHERE site IN (SELECT unnest(?::VARCHAR[])) ORDER BY site, file;

-- name: sites_without_file
-- Sites whose loaded snapshot has no row for one dump file (pipeline/ingest/loaded.py), with the
-- files it holds. $file: Posts, Users, ...; $site: one site, or NULL for every loaded site.
SELECT site, list(DISTINCT file ORDER BY file)
FROM dumps
WHERE $site::VARCHAR IS NULL OR site = $site::VARCHAR
GROUP BY site
HAVING NOT list_contains(list(file), $file::VARCHAR)
ORDER BY site;
