-- Statements of pipeline/publish (export, datasheet), one per `-- name:` section.

-- name: dumps
-- Provenance of an export: every dump file ingested for the exported sites (DATASHEET.md lists them).
-- Parameter 1: the sites, as a VARCHAR[].
SELECT site, dump_id, file, source, member, sha256, source_sha256, rows, size_bytes, newest_date, pipeline_version
FROM dumps
WHERE site IN (SELECT unnest(?::VARCHAR[]))
ORDER BY site, file;

-- name: questions
-- Rows of a study export: one per selected question, with labels, evidence and CC BY-SA attribution.
-- Reads the registered tables `export_selected(site, post_id)` (a batch of the Selection's keys,
-- made by export.py) and `license_rules(license, valid_from, valid_until, url)`
-- (pipeline/publish/rules/licenses.v1.csv).
-- Parameters: $site and $first, $last: the batch's site and its lowest and highest post_id. Every
-- table keyed by post id is read in that range only, so DuckDB skips the blocks of other posts and
-- a batch costs the same whatever the size of the selection or the site; and of that range only
-- the batch's own posts (`IN export_selected`), so what the joins hold is bounded by the batch: a
-- sparse selection's batch spans many posts it did not select, and with them the export ran out of
-- DuckDB's 256 MB cap (README, Scaling out). Users are read for the authors of those posts only.
-- $model: the topic_model_id whose topics to attach (NULL: topic columns stay empty);
-- `topic_stage` is that topic's main stage (topic_stages rank 1).
-- License: the post's ContentLicense when the dump has it, else the version in force on the
-- post's creation date (UTC). Human codes (human_codes, loaded by `stackmine agreement FILE --load`)
-- stand beside the machine's labels, with a consensus where both coders gave the same code; empty
-- for questions nobody coded. Ordered by (site, post_id) so reruns write identical files.
SELECT
    l.site,
    l.dump_id,
    l.post_id,
    t.creation_date,
    t.title,
    t.tags,
    p.score,
    p.view_count,
    p.answer_count,
    p.accepted_answer_id,
    l.platforms,
    l.notebook,
    l.ml,
    l.stage,
    l.stage2,
    CAST(l.evidence AS VARCHAR) AS evidence,
    l.classifier_version,
    qt.topic_model_id,
    qt.topic_id,
    tp.label AS topic_label,
    qt.probability AS topic_probability,
    ts.stage AS topic_stage,
    'https://' || l.site || '/q/' || l.post_id AS post_url,
    COALESCE(p.content_license, by_date.license) AS license,
    CASE WHEN p.content_license IS NULL THEN 'post date' ELSE 'ContentLicense' END AS license_source,
    named.url AS license_url,
    p.owner_user_id AS author_user_id,
    COALESCE(u.display_name, p.owner_display_name) AS author_display_name,
    CASE WHEN p.owner_user_id IS NOT NULL
         THEN 'https://' || l.site || '/users/' || p.owner_user_id END AS author_profile_url,
    COALESCE(h1.sheet, h2.sheet) AS human_sheet,
    h1.platforms AS coder1_platforms,
    h1.ml AS coder1_ml,
    h1.stage AS coder1_stage,
    h1.stage2 AS coder1_stage2,
    h1.note AS coder1_note,
    h2.platforms AS coder2_platforms,
    h2.ml AS coder2_ml,
    h2.stage AS coder2_stage,
    h2.stage2 AS coder2_stage2,
    h2.note AS coder2_note,
    CASE WHEN h1.platforms = h2.platforms THEN h1.platforms END AS consensus_platforms,
    CASE WHEN h1.ml = h2.ml THEN h1.ml END AS consensus_ml,
    CASE WHEN h1.stage = h2.stage THEN h1.stage END AS consensus_stage
FROM export_selected AS s
JOIN (FROM question_labels WHERE site = $site AND post_id BETWEEN $first AND $last
      AND post_id IN (SELECT post_id FROM export_selected)) AS l USING (site, post_id)
JOIN (FROM question_text WHERE site = $site AND post_id BETWEEN $first AND $last
      AND post_id IN (SELECT post_id FROM export_selected)) AS t USING (site, post_id)
LEFT JOIN (FROM question_topics WHERE topic_model_id = $model::VARCHAR AND site = $site
           AND post_id BETWEEN $first AND $last AND post_id IN (SELECT post_id FROM export_selected)) AS qt
       ON qt.site = l.site AND qt.post_id = l.post_id
LEFT JOIN topics AS tp ON tp.topic_model_id = qt.topic_model_id AND tp.topic_id = qt.topic_id
LEFT JOIN topic_stages AS ts ON ts.topic_model_id = qt.topic_model_id AND ts.topic_id = qt.topic_id AND ts.rank = 1
LEFT JOIN (FROM posts WHERE site = $site AND id BETWEEN $first AND $last
           AND id IN (SELECT post_id FROM export_selected)) AS p ON p.site = l.site AND p.id = l.post_id
LEFT JOIN (FROM users WHERE site = $site AND id IN (
               SELECT owner_user_id FROM posts WHERE site = $site AND id BETWEEN $first AND $last
               AND id IN (SELECT post_id FROM export_selected))) AS u
       ON u.site = p.site AND u.id = p.owner_user_id
LEFT JOIN license_rules AS by_date
       ON t.creation_date >= by_date.valid_from AND t.creation_date < by_date.valid_until
LEFT JOIN license_rules AS named ON named.license = COALESCE(p.content_license, by_date.license)
LEFT JOIN human_codes AS h1 ON h1.site = l.site AND h1.post_id = l.post_id AND h1.coder = 1
LEFT JOIN human_codes AS h2 ON h2.site = l.site AND h2.post_id = l.post_id AND h2.coder = 2
ORDER BY l.site, l.post_id;

-- name: topic_model
-- Which topic model an export attaches. Parameters: 1 and 2 the model the user named (NULL for
-- none), 3 the export's Selection.describe() JSON. Unnamed: the model fitted on exactly the same
-- selection if there is one, else the most recently fitted model; ties broken by id so the choice
-- is the same on every run. No row: no such model (or none fitted yet).
SELECT topic_model_id
FROM topic_models
WHERE ?::VARCHAR IS NULL OR topic_model_id = ?::VARCHAR
ORDER BY json(selection) = json(?::VARCHAR) DESC, created DESC, topic_model_id
LIMIT 1;

-- name: bodies
-- The HTML body of each question of a coding sample (the blind sheet shows it as plain text).
-- Reads the registered table `sample_keys(site, post_id)`.
SELECT p.site, p.id AS post_id, p.body
FROM sample_keys AS k
JOIN posts AS p ON p.site = k.site AND p.id = k.post_id
ORDER BY p.site, p.id;

-- name: topic_model_facts
-- What the datasheet states of the topic models attached to an export: selection, parameters,
-- versions and quality, not when or how fast they were fitted. Parameter: the ids, as a VARCHAR[].
SELECT topic_model_id, selection, parameters, versions, content_hash, n_docs, n_topics, n_outliers,
       coherence, diversity
FROM topic_models
WHERE topic_model_id IN (SELECT unnest(?::VARCHAR[]))
ORDER BY topic_model_id;

-- name: stage_coverage
-- Every stored stage_coverage row of one selection (stage_coverage.csv of an export; the datasheet's
-- coverage table). Parameters: the selection_id; the codebook's stages in order (VARCHAR[]), so rows
-- come in site ('*' first), scope, group and stage order.
SELECT *
FROM stage_coverage
WHERE selection_id = ?::VARCHAR
ORDER BY site, scope, grp, list_position(?::VARCHAR[], stage);
