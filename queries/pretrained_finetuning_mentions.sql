-- title: Questions mentioning pretrained models or fine-tuning
-- question: How many questions per year mention pretrained models, fine-tuning, transfer learning or model hubs in their title or prose, inside and outside notebooks?
-- param: pattern VARCHAR = '(?i)pre-?trained|fine-?tun|transfer learning|hugging ?face|model hub'  regular expression searched in title and prose
-- columns: year, notebook, questions, mentioning, share
WITH q AS (
    SELECT year(t.creation_date) AS year, l.notebook,
           regexp_matches(t.title || ' ' || t.prose,
                          COALESCE(getvariable('pattern'), '(?i)pre-?trained|fine-?tun|transfer learning|hugging ?face|model hub')) AS mentions
    FROM question_labels AS l
    JOIN question_text AS t USING (site, post_id)
)
SELECT year, notebook, count(*) AS questions, count(*) FILTER (WHERE mentions) AS mentioning,
       round(count(*) FILTER (WHERE mentions) / count(*), 4) AS share
FROM q
GROUP BY year, notebook
ORDER BY year, notebook;
