-- Per-site counts printed after `stackmine classify`. Parameters: site (NULL = all sites), twice.
SELECT site, count(*), count(*) FILTER (WHERE notebook), count(*) FILTER (WHERE ml),
       count(*) FILTER (WHERE notebook AND ml)
FROM question_labels
WHERE ?::VARCHAR IS NULL OR site = ?::VARCHAR
GROUP BY site
ORDER BY site;
