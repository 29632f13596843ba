-- Queries of the flows' cache ledger (flows/cache.py), in sections starting with `-- name:`.
-- The stage sections fingerprint a stage's output for a list of sites (their only parameter), so
-- the flow can check that what the ledger vouches for is still in the database: a manual
-- `stackmine ingest` of another snapshot, or a deleted table, changes them and the flow recomputes.

-- name: ingest
SELECT site, file, sha256, pipeline_version, rows
FROM dumps WHERE site IN (SELECT unnest(?::VARCHAR[])) ORDER BY site, file;

-- name: text
SELECT site, dump_id, text_version, count(*) AS n
FROM question_text WHERE site IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL ORDER BY ALL;

-- name: classify
SELECT site, dump_id, classifier_version, count(*) AS n
FROM question_labels WHERE site IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL ORDER BY ALL;

-- name: site_inputs
SELECT site, file, sha256, pipeline_version
FROM dumps WHERE site IN (SELECT unnest(?::VARCHAR[])) ORDER BY site, file;

-- name: ledger_get
SELECT input_key, output_key, site FROM stage_runs WHERE stage = ? AND scope = ?;

-- name: ledger_put
INSERT OR REPLACE INTO stage_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: sites
SELECT DISTINCT site FROM dumps ORDER BY site;

-- name: newer_loaded
-- dump_id of the site's loaded snapshot when it is newer than the staged one (attached as
-- `staged`): the flow keeps it, as `stackmine ingest` does, instead of downgrading silently.
SELECT m.dump_id
FROM (SELECT any_value(dump_id) AS dump_id, max(newest_date) AS newest FROM main.dumps WHERE site = ?) AS m,
     (SELECT max(newest_date) AS newest FROM staged.dumps) AS s
WHERE m.newest > s.newest;

-- name: upstream_keys
-- What export and report are keyed on, part 1: the ledger keys of every ingest/text/classify run.
SELECT stage, scope, input_key FROM stage_runs WHERE stage IN ('ingest', 'text', 'classify') ORDER BY ALL;

-- name: table_fingerprint
-- Part 2: the content of one derived table (topics, stages), `{table}` from a fixed list in flows/publish.py.
SELECT count(*), bit_xor(hash(t)) FROM {table} AS t;

-- name: stages
SELECT count(*), bit_xor(hash(c)) FROM stage_coverage AS c WHERE site IN (SELECT unnest(?::VARCHAR[]));
