-- Statements of pipeline/classify (question_text -> question_labels), one per `-- name:` section.
-- Parameters: the site, twice (NULL = every site).

-- name: count
-- How many parsed questions pipeline/classify/classifier.py will label (progress bar). Parameters: site, twice.
SELECT count(*) FROM question_text WHERE ?::VARCHAR IS NULL OR site = ?::VARCHAR;

-- name: questions
-- Not ordered: sorting would materialise the whole site before the first row.
-- Parsed questions to classify (pipeline/classify/classifier.py). Parameters: site (NULL = all sites), twice.
SELECT site, dump_id, post_id, title, prose, code, inline_code, tags
FROM question_text
WHERE ?::VARCHAR IS NULL OR site = ?::VARCHAR;

-- name: delete
-- Clear question_labels for a scope before relabelling it. Parameters: site (NULL = all sites), twice.
DELETE FROM question_labels WHERE ?::VARCHAR IS NULL OR site = ?::VARCHAR;

-- name: summary
-- Per-site counts printed after `stackmine classify`. Parameters: site (NULL = all sites), twice.
SELECT site, count(*), count(*) FILTER (WHERE notebook), count(*) FILTER (WHERE ml),
       count(*) FILTER (WHERE notebook AND ml)
FROM question_labels
WHERE ?::VARCHAR IS NULL OR site = ?::VARCHAR
GROUP BY site
ORDER BY site;

-- name: fingerprint
-- What the ledger (pipeline/core/ledger.py) checks of question_labels for a list of sites.
SELECT site, dump_id, classifier_version, count(*) AS n
FROM question_labels WHERE site IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL ORDER BY ALL;
