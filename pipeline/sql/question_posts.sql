-- Not ordered: an ORDER BY would make DuckDB hold every body of a site in memory before the first row.
-- Questions to parse for question_text (pipeline/text.py). Parameters: site (NULL = all sites), twice.
-- Dump watermark rows (fabricated by Stack Exchange in 2025 dumps) are not questions anyone asked.
SELECT site, dump_id, id, creation_date, title, body, tags
FROM posts
WHERE post_type_id = 1
  AND NOT is_watermark
  AND (?::VARCHAR IS NULL OR site = ?::VARCHAR);
