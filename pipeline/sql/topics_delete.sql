-- Remove one topic model and every row that hangs off it (parameter 1..4: the same topic_model_id).
DELETE FROM topics_over_time WHERE topic_model_id = ?;
DELETE FROM question_topics WHERE topic_model_id = ?;
DELETE FROM topics WHERE topic_model_id = ?;
DELETE FROM topic_models WHERE topic_model_id = ?;
