-- Statements of pipeline/evaluate, one per `-- name:` section.

-- name: gold_text
-- Text and stored labels of the gold questions (pipeline/evaluate/gold.py). Needs a registered table
-- `gold_keys(site, post_id)`; questions missing from question_text come back with NULL text.
SELECT g.site, g.post_id, t.title, t.prose, t.code, t.inline_code, t.tags,
       l.platforms, l.ml, l.stage, l.stage2, l.classifier_version, l.p_ml, l.p_stage
FROM gold_keys g
LEFT JOIN question_text t ON t.site = g.site AND t.post_id = g.post_id
LEFT JOIN question_labels l ON l.site = g.site AND l.post_id = g.post_id
ORDER BY g.site, g.post_id;

-- name: corpus_text
-- Every parsed question of a scratch database holding one source of the gold questions' text
-- (pipeline/evaluate/corpus.py), in the order Classifier.label_many takes its fields.
SELECT site, post_id, title, prose, inline_code, code, tags FROM question_text ORDER BY site, post_id;

-- name: fingerprint
-- What the ledger (pipeline/core/ledger.py) checks of the evaluate step's table for a list of sites:
-- loading a coded sheet changes it, so the exports that carry human codes are made again.
SELECT count(*), bit_xor(hash(h)) FROM human_codes AS h WHERE site IN (SELECT unnest(?::VARCHAR[]));
