-- Statements of pipeline/topics (fit, store, embedding cache), one per `-- name:` section.

-- name: cached_embeddings
-- Cached embeddings of the wanted documents (registered table `wanted_embeddings(site, text_hash, i)`).
SELECT w.i, c.embedding
FROM wanted_embeddings w JOIN embedding_cache c
  ON c.site = w.site AND c.text_hash = w.text_hash AND c.model = ?
ORDER BY w.i;

-- name: store_embeddings
-- New cache rows (registered table `new_embeddings`); the same text twice in one site is stored once.
INSERT OR IGNORE INTO embedding_cache
SELECT DISTINCT ON (site, text_hash) site, model, text_hash, embedding::FLOAT[] FROM new_embeddings;

-- name: find_model
SELECT n_topics, coherence, diversity FROM topic_models WHERE topic_model_id = ?;

-- name: same_scope_models
-- Models of the same selection, with their parameters: pipeline/topics/store.py replaces those whose
-- parameters are the new fit's (fit_sample aside).
SELECT topic_model_id, CAST(parameters AS VARCHAR) FROM topic_models WHERE selection = ?::JSON ORDER BY topic_model_id;

-- name: delete_model
-- Remove one topic model and every row that hangs off it (parameter: the topic_model_id, in each statement).
DELETE FROM topics_over_time WHERE topic_model_id = ?;
DELETE FROM question_topics WHERE topic_model_id = ?;
DELETE FROM topics WHERE topic_model_id = ?;
DELETE FROM topic_models WHERE topic_model_id = ?;

-- name: insert_model
INSERT INTO topic_models VALUES (?, ?::JSON, ?::JSON, ?::JSON, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: insert_topics
-- The topics of one model (registered `new_topics`, without sizes), each sized by the model's
-- question_topics rows, which are written first: the rows of a capped fit come in batch by batch.
-- Parameter: the topic_model_id.
INSERT INTO topics
SELECT n.topic_model_id, n.topic_id, n.label, CAST(coalesce(c.size, 0) AS INTEGER) AS size, n.terms, n.weights
FROM new_topics AS n
LEFT JOIN (SELECT topic_id, count(*) AS size FROM question_topics WHERE topic_model_id = ? GROUP BY topic_id) AS c
  USING (topic_id)
ORDER BY n.topic_id;

-- name: fit_sample
-- The fitting sample of a selection larger than its cap (pipeline/topics/fit.py, `fit_sample`): the
-- questions with the smallest md5(seed/site/post_id), at most the cap of them, in (site, post_id)
-- order. {columns}: the document columns, from code; {where}: the selection's conditions
-- (Selection.sql), whose parameters come first, then the seed, then the cap. The top-N keeps only
-- keys (a raised cap's texts would not fit DuckDB's streaming buffer cap); the texts are joined after.
WITH picked AS (
    SELECT l.site, l.post_id FROM question_labels AS l JOIN question_text AS t USING (site, post_id) {where}
    ORDER BY md5(CAST(? AS VARCHAR) || '/' || l.site || '/' || CAST(l.post_id AS VARCHAR)), l.site, l.post_id
    LIMIT ?
)
SELECT {columns}
FROM question_labels AS l JOIN question_text AS t USING (site, post_id)
SEMI JOIN picked AS p ON p.site = l.site AND p.post_id = l.post_id
ORDER BY l.site, l.post_id;

-- name: over_time
-- Fill topics_over_time for one topic model from its question_topics rows.
-- Parameters: 1 = period kind ('year' or 'quarter'), 2 = topic_model_id.
INSERT INTO topics_over_time
SELECT q.topic_model_id, q.site, q.topic_id,
       CASE WHEN ? = 'quarter'
            THEN CAST(year(t.creation_date) AS VARCHAR) || '-Q' || CAST(quarter(t.creation_date) AS VARCHAR)
            ELSE CAST(year(t.creation_date) AS VARCHAR) END AS period,
       count(*) AS n
FROM question_topics AS q JOIN question_text AS t USING (site, post_id)
WHERE q.topic_model_id = ?
GROUP BY ALL
ORDER BY ALL;

-- name: list_topics
-- The topics of one model, for `stackmine topics` to print.
SELECT topic_id, size, label FROM topics WHERE topic_model_id = ? ORDER BY topic_id;

-- name: latest_model
-- The newest topic model fitted on exactly this selection (its describe() JSON).
SELECT topic_model_id FROM topic_models WHERE selection = ?::JSON ORDER BY created DESC, topic_model_id LIMIT 1;

-- name: fingerprint
-- What the ledger (pipeline/core/ledger.py) checks of the topic models covering a list of sites.
SELECT topic_model_id, content_hash, n_docs, n_topics
FROM topic_models WHERE list_has_any(sites, ?::VARCHAR[]) ORDER BY ALL;
