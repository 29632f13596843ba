-- Statements of pipeline/publish (export, datasheet), one per `-- name:` section.

-- name: dumps
-- Provenance of an export: every dump file ingested for the exported sites (DATASHEET.md lists them).
-- Parameter 1: the sites, as a VARCHAR[].
SELECT site, dump_id, file, source, member, sha256, rows, size_bytes, newest_date, pipeline_version
FROM dumps
WHERE site IN (SELECT unnest(?::VARCHAR[]))
ORDER BY site, file;

-- name: questions
-- Rows of a study export: one per selected question, with labels, evidence and CC BY-SA attribution.
-- Reads the registered tables `export_selected(site, post_id)` (the Selection, made by export.py) and
-- `license_rules(license, valid_from, valid_until, url)` (pipeline/publish/rules/licenses.v1.csv).
-- Parameter 1: the topic_model_id whose topics to attach (NULL: topic columns stay empty);
-- `topic_stage` is that topic's main stage (topic_stages rank 1).
-- License: the post's ContentLicense when the dump has it, else the version in force on the
-- post's creation date (UTC). Ordered by (site, post_id) so reruns write identical files.
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
         THEN 'https://' || l.site || '/users/' || p.owner_user_id END AS author_profile_url
FROM export_selected AS s
JOIN question_labels AS l USING (site, post_id)
JOIN question_text AS t USING (site, post_id)
LEFT JOIN question_topics AS qt
       ON qt.topic_model_id = ?::VARCHAR AND qt.site = l.site AND qt.post_id = l.post_id
LEFT JOIN topics AS tp ON tp.topic_model_id = qt.topic_model_id AND tp.topic_id = qt.topic_id
LEFT JOIN topic_stages AS ts ON ts.topic_model_id = qt.topic_model_id AND ts.topic_id = qt.topic_id AND ts.rank = 1
LEFT JOIN posts AS p ON p.site = l.site AND p.id = l.post_id
LEFT JOIN users AS u ON u.site = p.site AND u.id = p.owner_user_id
LEFT JOIN license_rules AS by_date
       ON t.creation_date >= by_date.valid_from AND t.creation_date < by_date.valid_until
LEFT JOIN license_rules AS named ON named.license = COALESCE(p.content_license, by_date.license)
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
