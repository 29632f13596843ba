-- title: Most viewed questions per stage
-- question: Which notebook ML questions of each lifecycle stage were viewed most (the problems many people hit)?
-- param: top INTEGER = 3  questions kept per stage
-- param: notebook_only BOOLEAN = true  only notebook questions (false: all ML questions)
-- columns: stage, rank, site, post_id, title, view_count, score, url
WITH ranked AS (
    SELECT l.stage, l.site, l.post_id, t.title, p.view_count, p.score,
           row_number() OVER (PARTITION BY l.stage ORDER BY p.view_count DESC, l.site, l.post_id) AS rank
    FROM question_labels AS l
    JOIN question_text AS t USING (site, post_id)
    JOIN posts AS p ON p.site = l.site AND p.id = l.post_id
    WHERE l.ml AND (l.notebook OR NOT COALESCE(getvariable('notebook_only'), true))
)
SELECT stage, rank, site, post_id, title, view_count, score, 'https://' || site || '/q/' || post_id AS url
FROM ranked
WHERE rank <= COALESCE(getvariable('top'), 3)
ORDER BY stage, rank;
