-- Which topic model an export attaches. Parameters: 1 and 2 the model the user named (NULL for
-- none), 3 the export's Selection.describe() JSON. Unnamed: the model fitted on exactly the same
-- selection if there is one, else the most recently fitted model; ties broken by id so the choice
-- is the same on every run. No row: no such model (or none fitted yet).
SELECT topic_model_id
FROM topic_models
WHERE ?::VARCHAR IS NULL OR topic_model_id = ?::VARCHAR
ORDER BY json(selection) = json(?::VARCHAR) DESC, created DESC, topic_model_id
LIMIT 1;
