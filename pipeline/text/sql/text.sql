-- Statements of pipeline/text (question HTML -> question_text), one per `-- name:` section.
-- Parameters: the site, twice (NULL = every site).

-- name: count
-- How many questions pipeline/text/extract.py will parse (for its progress bar). Parameters: site, twice.
SELECT count(*)
FROM posts
WHERE post_type_id = 1
  AND NOT is_watermark
  AND (?::VARCHAR IS NULL OR site = ?::VARCHAR);

-- name: questions
-- Not ordered: an ORDER BY would make DuckDB hold every body of a site in memory before the first row.
-- Questions to parse for question_text (pipeline/text/extract.py). Parameters: site (NULL = all sites), twice.
-- Dump watermark rows (fabricated by Stack Exchange in 2025 dumps) are not questions anyone asked.
-- Rows of posts carry their snapshot's dump_key; the dated dump_id comes from `dumps`.
SELECT p.site, d.dump_id, p.id, p.creation_date, p.title, p.body, p.tags
FROM posts AS p
JOIN (SELECT DISTINCT site, dump_key, dump_id FROM dumps) AS d USING (site, dump_key)
WHERE p.post_type_id = 1
  AND NOT p.is_watermark
  AND (?::VARCHAR IS NULL OR p.site = ?::VARCHAR);

-- name: delete
-- Clear question_text for a scope before rebuilding it. Parameters: site (NULL = all sites), twice.
DELETE FROM question_text WHERE ?::VARCHAR IS NULL OR site = ?::VARCHAR;

-- name: fingerprint
-- What the ledger (pipeline/core/ledger.py) checks of question_text for a list of sites.
SELECT site, dump_id, text_version, count(*) AS n
FROM question_text WHERE site IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL ORDER BY ALL;
