-- title: Stage coverage by platform
-- question: Which ML-lifecycle stages do ML questions on each notebook platform discuss, and which do they skip (share 0)? Primary stage as labelled by the classifier; 'none' is ML questions outside notebooks.
-- param: min_year INTEGER = 2008  first year counted
-- columns: platform, stage, questions, platform_questions, share
WITH ml_questions AS (
    SELECT unnest(CASE WHEN l.notebook THEN l.platforms ELSE ['none'] END) AS platform, l.stage
    FROM question_labels AS l
    JOIN question_text AS t USING (site, post_id)
    WHERE l.ml AND year(t.creation_date) >= COALESCE(getvariable('min_year'), 2008)
),
platforms AS (SELECT platform, count(*) AS platform_questions FROM ml_questions GROUP BY platform),
stages AS (SELECT DISTINCT stage FROM ml_questions),
counts AS (SELECT platform, stage, count(*) AS questions FROM ml_questions GROUP BY platform, stage)
SELECT p.platform, s.stage, COALESCE(c.questions, 0) AS questions, p.platform_questions,
       round(COALESCE(c.questions, 0) / p.platform_questions, 4) AS share
FROM platforms AS p
CROSS JOIN stages AS s
LEFT JOIN counts AS c ON c.platform = p.platform AND c.stage = s.stage
ORDER BY p.platform = 'none', p.platform, s.stage;
