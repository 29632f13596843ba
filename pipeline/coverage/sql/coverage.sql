-- Statements of pipeline/coverage (topic → stage mapping, stage coverage), one per `-- name:` section.

-- name: topic_members
-- The labelled ML members of each topic of one model (outliers excluded).
SELECT q.topic_id, l.stage, l.stage2
FROM question_topics q JOIN question_labels l USING (site, post_id)
WHERE q.topic_model_id = ? AND l.ml AND q.topic_id >= 0;

-- name: topic_terms
SELECT topic_id, terms, weights FROM topics WHERE topic_model_id = ? AND topic_id >= 0 ORDER BY topic_id;

-- name: assigned_topics
SELECT site, post_id, topic_id FROM question_topics WHERE topic_model_id = ? AND topic_id >= 0;

-- name: delete_orphan_topic_stages
DELETE FROM topic_stages WHERE topic_model_id NOT IN (SELECT topic_model_id FROM topic_models);

-- name: delete_topic_stages
DELETE FROM topic_stages WHERE topic_model_id = ?;

-- name: delete_coverage
-- Parameter: the sites whose rows are replaced ('*' = the pooled rows).
DELETE FROM stage_coverage WHERE site IN (SELECT unnest(?::VARCHAR[]));

-- name: insert_topic_stages
INSERT INTO topic_stages
SELECT topic_model_id, topic_id, rank, stage, score, source, evidence::JSON, mapping_version FROM new_topic_stages;

-- name: insert_coverage
INSERT INTO stage_coverage SELECT * FROM new_coverage;

-- name: read_coverage
SELECT * FROM stage_coverage WHERE site = ? AND scope = ? ORDER BY grp;

-- name: fingerprint
-- What the ledger (pipeline/core/ledger.py) checks of the stages step's output for a list of sites.
SELECT count(*), bit_xor(hash(c)) FROM stage_coverage AS c WHERE site IN (SELECT unnest(?::VARCHAR[]) UNION ALL SELECT '*');
