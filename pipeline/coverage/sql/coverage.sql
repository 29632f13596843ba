-- Statements of pipeline/coverage (topic → stage mapping, stage coverage), one per `-- name:` section.

-- name: topic_members
-- The labelled ML members of each topic of one model (outliers excluded).
SELECT q.topic_id, l.stage, l.stage2
FROM question_topics q JOIN question_labels l USING (site, post_id)
WHERE q.topic_model_id = ? AND l.ml AND q.topic_id >= 0;

-- name: topic_terms
SELECT topic_id, terms, weights FROM topics WHERE topic_model_id = ? AND topic_id >= 0 ORDER BY topic_id;

-- name: assigned_notebook_ml
-- The notebook ML questions in each topic of one model (outliers excluded).
SELECT q.site, q.post_id, q.topic_id
FROM question_topics q JOIN question_labels l USING (site, post_id)
WHERE q.topic_model_id = ? AND q.topic_id >= 0 AND l.notebook AND l.ml;

-- name: topic_member_ids
SELECT site, post_id, topic_id FROM question_topics WHERE topic_model_id = ? AND topic_id >= 0;

-- name: delete_orphan_topic_stages
DELETE FROM topic_stages WHERE topic_model_id NOT IN (SELECT topic_model_id FROM topic_models);

-- name: delete_topic_stages
DELETE FROM topic_stages WHERE topic_model_id = ?;

-- name: delete_coverage
-- Parameter: the selection whose rows are replaced (other selections keep theirs).
DELETE FROM stage_coverage WHERE selection_id = ?;

-- name: coverage_columns
-- The table's columns in order, so the insert matches them by position.
SELECT column_name FROM duckdb_columns() WHERE table_name = 'stage_coverage' ORDER BY column_index;

-- name: insert_topic_stages
INSERT INTO topic_stages
SELECT topic_model_id, topic_id, rank, stage, score, source, evidence::JSON, mapping_version FROM new_topic_stages;

-- name: insert_coverage
INSERT INTO stage_coverage BY NAME SELECT * FROM new_coverage;

-- name: read_coverage
SELECT * FROM stage_coverage WHERE selection_id = ? AND site = ? AND scope = ? ORDER BY grp;

-- name: fingerprint
-- What the ledger (pipeline/core/ledger.py) checks of the stages step's output for a list of sites.
-- (every selection's rows: a run recomputes one selection, and any change of the table is news)
SELECT count(*), bit_xor(hash(c)) FROM stage_coverage AS c WHERE site IN (SELECT unnest(?::VARCHAR[]) UNION ALL SELECT '*');
