-- title: Topic terms
-- question: Which terms describe each topic of a topic model, with what c-TF-IDF weight, and how large is each topic (what BERTopic's topic bar chart, distance map and hierarchy are drawn from)?
-- param: topic_model VARCHAR = ''  topic_model_id ('' means the most recently fitted model)
-- param: include_outliers BOOLEAN = false  keep BERTopic's outlier topic -1
-- columns: topic_model_id, topic_id, label, size, terms, weights
WITH model AS (
    SELECT topic_model_id FROM topic_models
    WHERE topic_model_id = COALESCE(NULLIF(COALESCE(getvariable('topic_model'), ''), ''),
                                    (SELECT topic_model_id FROM topic_models ORDER BY created DESC, topic_model_id LIMIT 1))
)
SELECT tp.topic_model_id, tp.topic_id, tp.label, tp.size, tp.terms, tp.weights
FROM topics AS tp
JOIN model USING (topic_model_id)
WHERE tp.topic_id >= 0 OR COALESCE(getvariable('include_outliers'), false)
ORDER BY tp.topic_id;
