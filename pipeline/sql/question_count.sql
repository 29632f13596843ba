-- How many questions pipeline/text.py will parse (for its progress bar). Parameters: site, twice.
SELECT count(*)
FROM posts
WHERE post_type_id = 1
  AND NOT is_watermark
  AND (?::VARCHAR IS NULL OR site = ?::VARCHAR);
