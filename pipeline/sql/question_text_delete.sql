-- Clear question_text for a scope before rebuilding it. Parameters: site (NULL = all sites), twice.
DELETE FROM question_text WHERE ?::VARCHAR IS NULL OR site = ?::VARCHAR;
