-- title: Stage coverage by platform
-- question: How often is each ML-lifecycle stage the classifier's primary stage of ML questions on each notebook platform (all 15 stages, zeros included)? Raw counts of the labels, not corrected for classifier error: `stackmine stages --by platform` gives corrected shares and verdicts. 'none' is ML questions outside notebooks.
-- param: min_year INTEGER = 2008  first year counted
-- columns: platform, stage, questions, platform_questions, share
WITH ml_questions AS (
    SELECT unnest(CASE WHEN l.notebook THEN l.platforms ELSE ['none'] END) AS platform, l.stage
    FROM question_labels AS l
    JOIN question_text AS t USING (site, post_id)
    WHERE l.ml AND year(t.creation_date) >= COALESCE(getvariable('min_year'), 2008)
),
platforms AS (SELECT platform, count(*) AS platform_questions FROM ml_questions GROUP BY platform),
-- all 15 codebook stages, in the codebook's order, whether or not a question has them
codebook AS (SELECT ['problem-formulation', 'data-collection', 'data-preparation', 'data-labelling',
                     'feature-engineering', 'model-training', 'model-evaluation', 'fairness-bias',
                     'interpretability', 'documentation-provenance', 'pretrained-reuse', 'deployment',
                     'monitoring', 'privacy-security', 'environment'] AS stages),
stages AS (SELECT unnest(stages) AS stage, generate_subscripts(stages, 1) AS position FROM codebook),
counts AS (SELECT platform, stage, count(*) AS questions FROM ml_questions GROUP BY platform, stage)
SELECT p.platform, s.stage, COALESCE(c.questions, 0) AS questions, p.platform_questions,
       round(COALESCE(c.questions, 0) / p.platform_questions, 4) AS share
FROM platforms AS p
CROSS JOIN stages AS s
LEFT JOIN counts AS c ON c.platform = p.platform AND c.stage = s.stage
ORDER BY p.platform = 'none', p.platform, s.position;
