-- Statements of pipeline/ingest, one per `-- name:` section. The loading ones run inside the
-- run's one transaction (see load.ingest), so a run's sites are replaced whole or not at all.
-- Rows of the data tables carry their snapshot's dump_key (fixed before parsing, see tables.sql);
-- `dumps` maps (site, dump_key) to the dated dump_id.
-- {table} is an identifier from the fixed tuple load.DUMP_TABLES and {name} a DuckDB setting
-- named in code (identifiers cannot be bound parameters); every value is a parameter.

-- name: describe
-- Columns and types of a dump table: the parser derives its Arrow schema from the DDL.
DESCRIBE {table};

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
SELECT * EXCLUDE (site, dump_key, tags, is_watermark) FROM posts WHERE site = $site ORDER BY id;

-- name: loaded_key
-- The dump_key of a site's loaded snapshot (NULL when none): exports added with --add join it.
SELECT max(dump_key) FROM dumps WHERE site = $site;

-- name: next_key
-- The key of the snapshot about to be loaded, fixed before its first row is parsed: one more than
-- any the site has (its rows and the old snapshot's coexist until the old one is deleted). posts
-- too, so that rows whose `dumps` rows were deleted by hand can never share the new key.
SELECT greatest((SELECT coalesce(max(dump_key), 0) FROM dumps WHERE site = $site),
                (SELECT coalesce(max(dump_key), 0) FROM posts WHERE site = $site)) + 1;

-- name: set_dump_id
-- The files of a site's snapshot take the dump_id its exports now form (after --add); the rows of
-- the data tables keep their dump_key.
UPDATE dumps SET dump_id = $dump_id WHERE site = $site;

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

-- name: insert_stream
-- One dump file's rows as the parser pool hands them over: an Arrow record-batch stream named
-- `stream` (DuckDB reads it from the caller's frame) that yields while later chunks parse.
-- Columns match the table by name; missing ones (is_watermark, is_bot) take their defaults.
INSERT INTO {table} BY NAME
SELECT $site AS site, $dump_key AS dump_key, * FROM stream;

-- name: delete_other_snapshots
-- Once the new snapshot is in: every other snapshot of the site goes (the old one).
DELETE FROM {table} WHERE site = $site AND dump_key <> $dump_key;

-- name: delete_snapshot
-- The new snapshot is older than the loaded one (and not --force): it goes again.
DELETE FROM {table} WHERE site = $site AND dump_key = $dump_key;

-- name: other_posts
-- Posts of a site's snapshots other than $dump_key (NULL: all of them): the loaded snapshot's,
-- while the new one is in beside it.
SELECT count(*) FROM posts WHERE site = $site AND dump_key IS DISTINCT FROM $dump_key::INTEGER;

-- name: load_post_tags
-- One row per (post, tag), position 1-based in the order the dump lists the tags.
INSERT INTO post_tags (site, dump_key, post_id, tag, position)
SELECT site, dump_key, id, unnest(tags), unnest(range(1, len(tags) + 1))
FROM posts
WHERE site = $site AND dump_key = $dump_key AND len(tags) > 0;

-- name: flag_watermarks
-- Rule: pipeline/ingest/rules/watermarks.v1.csv (id and owner match, and the post has no history).
UPDATE posts SET is_watermark = TRUE
FROM read_csv($rules, header = true, all_varchar = true) AS rule
WHERE posts.site = $site AND posts.dump_key = $dump_key
  AND posts.id = CAST(rule.post_id AS BIGINT)
  AND posts.owner_user_id = CAST(rule.owner_user_id AS BIGINT)
  AND NOT EXISTS (SELECT 1 FROM post_history AS h
                  WHERE h.site = $site AND h.dump_key = $dump_key AND h.post_id = posts.id);

-- name: flag_bots
-- Rule: pipeline/ingest/rules/bots.v1.csv (site '*' means every site).
UPDATE users SET is_bot = TRUE
FROM read_csv($rules, header = true, all_varchar = true) AS bot
WHERE users.site = $site AND users.dump_key = $dump_key
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

-- name: dump_key_migration
-- The dump tables made before their rows carried dump_key (ingest-2 and earlier): the data tables
-- that still have a dump_id column, and `dumps` when it lacks dump_key. Migrated by
-- load.migrate_dump_keys in one transaction.
SELECT table_name FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = 'main' AND column_name = 'dump_id'
  AND table_name IN (SELECT unnest($tables::VARCHAR[]))
  AND table_name NOT IN (SELECT table_name FROM duckdb_columns()
                         WHERE database_name = current_database() AND schema_name = 'main' AND column_name = 'dump_key')
ORDER BY table_name;

-- name: add_dump_key
-- Each site had one snapshot: its rows get key 1. Added in place (DuckDB adds a column without
-- copying the table), then without the default, as the DDL declares it.
ALTER TABLE {table} ADD COLUMN dump_key INTEGER NOT NULL DEFAULT 1;
ALTER TABLE {table} ALTER COLUMN dump_key DROP DEFAULT;

-- name: drop_dump_id
ALTER TABLE {table} DROP COLUMN dump_id;

-- name: rename_dumps_unkeyed
ALTER TABLE dumps RENAME TO dumps_before_dump_key;

-- name: copy_dumps_unkeyed
-- `dumps` rebuilt from the DDL (its declared key rules out ALTER), its rows with dump_key 1.
INSERT INTO dumps BY NAME SELECT *, 1 AS dump_key FROM dumps_before_dump_key;

-- name: drop_dumps_unkeyed
DROP TABLE dumps_before_dump_key;
