-- title: Notebook questions per platform per year
-- question: How many notebook questions does each platform get each year, per site? (a question on two platforms counts for both)
-- param: min_year INTEGER = 2008  first year counted
-- param: max_year INTEGER = 2100  last year counted
-- columns: site, platform, year, questions
WITH per_platform AS (
    SELECT l.site, unnest(l.platforms) AS platform, year(t.creation_date) AS year
    FROM question_labels AS l
    JOIN question_text AS t USING (site, post_id)
    WHERE l.notebook
)
SELECT site, platform, year, count(*) AS questions
FROM per_platform
WHERE year BETWEEN COALESCE(getvariable('min_year'), 2008) AND COALESCE(getvariable('max_year'), 2100)
GROUP BY site, platform, year
ORDER BY site, platform, year;
