-- title: Fairness, bias and documentation mentions
-- question: How often do ML questions, inside and outside notebooks, mention fairness or bias, documentation or provenance (model cards, datasheets, reproducibility, experiment tracking)?
-- param: ml_only BOOLEAN = true  only ML questions (false: every question)
-- columns: theme, notebook, questions, mentioning, share, example_post_ids
WITH themes(theme, pattern) AS (
    VALUES ('fairness-bias', '(?i)\bfair(ness)?\b|\bbias(ed)?\b|discriminat|disparate|protected attribute'),
           ('documentation-provenance', '(?i)model card|datasheet|reproducib|provenance|experiment tracking|mlflow|\bdvc\b|data version')
),
q AS (
    SELECT l.site, l.post_id, l.notebook, t.title || ' ' || t.prose AS text
    FROM question_labels AS l
    JOIN question_text AS t USING (site, post_id)
    WHERE l.ml OR NOT COALESCE(getvariable('ml_only'), true)
)
SELECT th.theme, q.notebook, count(*) AS questions,
       count(*) FILTER (WHERE regexp_matches(q.text, th.pattern)) AS mentioning,
       round(count(*) FILTER (WHERE regexp_matches(q.text, th.pattern)) / count(*), 4) AS share,
       COALESCE(list_slice(list(q.site || '/' || q.post_id ORDER BY q.site, q.post_id)
                             FILTER (WHERE regexp_matches(q.text, th.pattern)), 1, 5), []) AS example_post_ids
FROM themes AS th
CROSS JOIN q
GROUP BY th.theme, q.notebook
ORDER BY th.theme, q.notebook;
