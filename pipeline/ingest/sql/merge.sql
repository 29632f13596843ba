-- Statements of pipeline/ingest/merge.py: move a site parsed elsewhere (a Dask worker wrote it into
-- a staging database) into the main database, replacing that site's previous snapshot. The
-- replace runs for every dump table inside ONE transaction, so readers see either the old
-- snapshot or the new one. `{table}` is a name from load.DUMP_TABLES, never user input.

-- name: attach
ATTACH ? AS staged (READ_ONLY);

-- name: detach
DETACH staged;

-- name: newest
-- How current the staged snapshot is, dated by the dump files both it and the site's loaded
-- snapshot hold (parameter: the site), and those files: with `--tables` two snapshots of one dump
-- may hold different files, whose newest dates differ without either being older
-- (as `load.newer_loaded_than` judges a snapshot loaded directly).
SELECT max(newest_date), coalesce(list(DISTINCT file ORDER BY file), [])
FROM staged.dumps WHERE file IN (SELECT file FROM main.dumps WHERE site = ?);

-- name: staged_rows
-- Posts and rows in all of the staged snapshot, and its Posts file (for the shrink guard).
SELECT sum(rows) FILTER (WHERE file = 'Posts'), sum(rows), min(source) FILTER (WHERE file = 'Posts')
FROM staged.dumps;

-- name: replace
-- Parameters: the list of staged sites (DELETE), then the snapshot's dump_key in the main database
-- (INSERT: the staging database numbered its snapshot on its own).
DELETE FROM main.{table} WHERE site IN (SELECT unnest(?::VARCHAR[]));
INSERT INTO main.{table} BY NAME SELECT * REPLACE (?::INTEGER AS dump_key) FROM staged.{table};
