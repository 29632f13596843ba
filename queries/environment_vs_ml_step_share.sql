-- title: Environment vs ML-step share
-- question: On each notebook platform, how many ML questions are about the environment itself (installs, kernels, GPU runtime, files) rather than an ML step? 'none' is ML questions outside notebooks.
-- param: site VARCHAR = '%'  site to count (LIKE pattern; '%' means all sites)
-- columns: platform, ml_questions, environment, ml_step, environment_share
WITH q AS (
    SELECT unnest(CASE WHEN l.notebook THEN l.platforms ELSE ['none'] END) AS platform, l.stage
    FROM question_labels AS l
    WHERE l.ml AND l.site LIKE COALESCE(getvariable('site'), '%')
)
SELECT platform,
       count(*) AS ml_questions,
       count(*) FILTER (WHERE stage = 'environment') AS environment,
       count(*) FILTER (WHERE stage <> 'environment') AS ml_step,
       round(count(*) FILTER (WHERE stage = 'environment') / count(*), 4) AS environment_share
FROM q
GROUP BY platform
ORDER BY platform = 'none', ml_questions DESC, platform;
