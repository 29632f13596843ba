-- title: Topic trends
-- question: How does the number of questions in each topic change from period to period (all sites together), and what share of the period's questions is that?
-- param: topic_model VARCHAR = ''  topic_model_id ('' means the most recently fitted model)
-- param: include_outliers BOOLEAN = false  keep BERTopic's outlier topic -1
-- columns: topic_model_id, topic_id, label, period, questions, period_share
WITH model AS (
    SELECT topic_model_id FROM topic_models
    WHERE topic_model_id = COALESCE(NULLIF(COALESCE(getvariable('topic_model'), ''), ''),
                                    (SELECT topic_model_id FROM topic_models ORDER BY created DESC, topic_model_id LIMIT 1))
),
per_period AS (
    SELECT o.topic_model_id, o.topic_id, o.period, CAST(sum(o.n) AS BIGINT) AS questions
    FROM topics_over_time AS o
    JOIN model USING (topic_model_id)
    WHERE o.topic_id >= 0 OR COALESCE(getvariable('include_outliers'), false)
    GROUP BY ALL
)
SELECT p.topic_model_id, p.topic_id, tp.label, p.period, p.questions,
       round(p.questions / sum(p.questions) OVER (PARTITION BY p.period), 4) AS period_share
FROM per_period AS p
JOIN topics AS tp USING (topic_model_id, topic_id)
ORDER BY p.period, p.questions DESC, p.topic_id;
