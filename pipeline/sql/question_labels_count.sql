-- How many parsed questions pipeline/classify.py will label (progress bar). Parameters: site, twice.
SELECT count(*) FROM question_text WHERE ?::VARCHAR IS NULL OR site = ?::VARCHAR;
