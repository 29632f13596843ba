-- Not ordered: sorting would materialise the whole site before the first row.
-- Parsed questions to classify (pipeline/classify.py). Parameters: site (NULL = all sites), twice.
SELECT site, dump_id, post_id, title, prose, code, inline_code, tags
FROM question_text
WHERE ?::VARCHAR IS NULL OR site = ?::VARCHAR;
