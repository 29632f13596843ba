-- title: Topic → stage mapping checked against gold labels
-- question: For each topic of a topic model, which lifecycle stage is it mapped to, how many of its members have a gold (hand-read) label, what share of those agree with the mapping (their primary or second gold stage), and is the topic flagged for review?
-- param: topic_model VARCHAR = ''  topic_model_id ('' means the most recently fitted model)
-- columns: topic_model_id, topic_id, label, size, stage, source, gold_questions, gold_agreement, needs_review, gold_stages
WITH model AS (
    SELECT topic_model_id FROM topic_models
    WHERE topic_model_id = COALESCE(NULLIF(COALESCE(getvariable('topic_model'), ''), ''),
                                    (SELECT topic_model_id FROM topic_models ORDER BY created DESC, topic_model_id LIMIT 1))
)
SELECT s.topic_model_id, s.topic_id, t.label, t.size, s.stage, s.source,
       CAST(json_extract(s.evidence, '$.gold_check.gold_questions') AS INTEGER) AS gold_questions,
       CAST(json_extract(s.evidence, '$.gold_check.gold_agreement') AS DOUBLE) AS gold_agreement,
       COALESCE(CAST(json_extract(s.evidence, '$.gold_check.needs_review') AS BOOLEAN), false) AS needs_review,
       json_extract(s.evidence, '$.gold_check.gold_stages')::VARCHAR AS gold_stages
FROM topic_stages AS s
JOIN model USING (topic_model_id)
JOIN topics AS t ON t.topic_model_id = s.topic_model_id AND t.topic_id = s.topic_id
WHERE s.rank = 1
ORDER BY s.topic_id;
