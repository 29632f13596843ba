-- Clear question_labels for a scope before relabelling it. Parameters: site (NULL = all sites), twice.
DELETE FROM question_labels WHERE ?::VARCHAR IS NULL OR site = ?::VARCHAR;
