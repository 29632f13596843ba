-- title: Topics per platform
-- question: How are the questions of each notebook platform spread over the topics of a topic model (BERTopic's topics per class, with the platform as the class)?
-- param: topic_model VARCHAR = ''  topic_model_id ('' means the most recently fitted model)
-- param: include_outliers BOOLEAN = false  keep BERTopic's outlier topic -1
-- columns: topic_model_id, topic_id, label, platform, questions, platform_share
WITH model AS (
    SELECT topic_model_id FROM topic_models
    WHERE topic_model_id = COALESCE(NULLIF(COALESCE(getvariable('topic_model'), ''), ''),
                                    (SELECT topic_model_id FROM topic_models ORDER BY created DESC, topic_model_id LIMIT 1))
),
members AS (
    SELECT q.topic_model_id, q.topic_id, CASE WHEN len(l.platforms) = 0 THEN 'none' ELSE unnest(l.platforms) END AS platform
    FROM question_topics AS q
    JOIN model USING (topic_model_id)
    JOIN question_labels AS l USING (site, post_id)
    WHERE q.topic_id >= 0 OR COALESCE(getvariable('include_outliers'), false)
),
counts AS (
    SELECT topic_model_id, topic_id, platform, count(*) AS questions FROM members GROUP BY ALL
)
SELECT c.topic_model_id, c.topic_id, tp.label, c.platform, c.questions,
       round(c.questions / sum(c.questions) OVER (PARTITION BY c.platform), 4) AS platform_share
FROM counts AS c
JOIN topics AS tp USING (topic_model_id, topic_id)
ORDER BY c.platform, c.questions DESC, c.topic_id;
