-- Fill topics_over_time for one topic model from its question_topics rows.
-- Parameters: 1 = topic_model_id, 2 = period kind ('year' or 'quarter'), 3 = topic_model_id.
INSERT INTO topics_over_time
SELECT q.topic_model_id, q.site, q.topic_id,
       CASE WHEN ? = 'quarter'
            THEN CAST(year(t.creation_date) AS VARCHAR) || '-Q' || CAST(quarter(t.creation_date) AS VARCHAR)
            ELSE CAST(year(t.creation_date) AS VARCHAR) END AS period,
       count(*) AS n
FROM question_topics AS q JOIN question_text AS t USING (site, post_id)
WHERE q.topic_model_id = ?
GROUP BY ALL
ORDER BY ALL;
