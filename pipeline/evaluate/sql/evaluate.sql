-- Statements of pipeline/evaluate, one per `-- name:` section.

-- name: gold_text
-- Text and stored labels of the gold questions (pipeline/evaluate/gold.py). Needs a registered table
-- `gold_keys(site, post_id)`; questions missing from question_text come back with NULL text.
SELECT g.site, g.post_id, t.title, t.prose, t.code, t.inline_code, t.tags,
       l.platforms, l.ml, l.stage, l.stage2, l.classifier_version
FROM gold_keys g
LEFT JOIN question_text t ON t.site = g.site AND t.post_id = g.post_id
LEFT JOIN question_labels l ON l.site = g.site AND l.post_id = g.post_id
ORDER BY g.site, g.post_id;
