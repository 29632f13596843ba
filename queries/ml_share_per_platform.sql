-- title: Share of ML questions per platform
-- question: Of the questions asked on each notebook platform, what share is part of an ML workflow, compared with questions outside notebooks (platform 'none')?
-- param: site VARCHAR = '%'  site to count (LIKE pattern; '%' means all sites)
-- columns: platform, questions, ml_questions, ml_share
WITH per_platform AS (
    SELECT unnest(CASE WHEN l.notebook THEN l.platforms ELSE ['none'] END) AS platform, l.ml
    FROM question_labels AS l
    WHERE l.site LIKE COALESCE(getvariable('site'), '%')
)
SELECT platform,
       count(*) AS questions,
       count(*) FILTER (WHERE ml) AS ml_questions,
       round(count(*) FILTER (WHERE ml) / count(*), 4) AS ml_share
FROM per_platform
GROUP BY platform
ORDER BY platform = 'none', questions DESC, platform;
