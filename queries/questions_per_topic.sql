-- title: Questions per topic with example titles
-- question: How many questions does each topic of a topic model hold, what are its top terms and main lifecycle stage, and which titles typify it (most probable members first)?
-- param: topic_model VARCHAR = ''  topic_model_id ('' means the most recently fitted model)
-- param: examples INTEGER = 3  example titles per topic
-- columns: topic_model_id, topic_id, label, questions, top_terms, main_stage, example_titles
WITH model AS (
    SELECT topic_model_id FROM topic_models
    WHERE topic_model_id = COALESCE(NULLIF(COALESCE(getvariable('topic_model'), ''), ''),
                                    (SELECT topic_model_id FROM topic_models ORDER BY created DESC, topic_model_id LIMIT 1))
),
members AS (
    SELECT q.topic_model_id, q.topic_id, t.title,
           row_number() OVER (PARTITION BY q.topic_model_id, q.topic_id
                              ORDER BY q.probability DESC, q.site, q.post_id) AS rank
    FROM question_topics AS q
    JOIN model USING (topic_model_id)
    JOIN question_text AS t USING (site, post_id)
)
SELECT tp.topic_model_id, tp.topic_id, tp.label,
       (SELECT count(*) FROM members AS m WHERE m.topic_id = tp.topic_id) AS questions,
       tp.terms[1:5] AS top_terms,
       ts.stage AS main_stage,
       COALESCE((SELECT list(m.title ORDER BY m.rank) FROM members AS m
                 WHERE m.topic_id = tp.topic_id AND m.rank <= COALESCE(getvariable('examples'), 3)), []) AS example_titles
FROM topics AS tp
JOIN model USING (topic_model_id)
LEFT JOIN topic_stages AS ts ON ts.topic_model_id = tp.topic_model_id AND ts.topic_id = tp.topic_id AND ts.rank = 1
ORDER BY questions DESC, tp.topic_id;
