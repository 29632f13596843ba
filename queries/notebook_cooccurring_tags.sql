-- title: Top co-occurring tags of notebook questions
-- question: Which tags appear most often on notebook questions (optionally of one platform), not counting the tags that made the question a notebook question?
-- param: platform VARCHAR = ''  only questions on this platform ('' means every notebook question)
-- param: top INTEGER = 20  number of tags returned
-- columns: tag, questions, share
WITH nb AS (
    SELECT l.site, l.post_id, t.tags,
           -- tags the classifier used as platform evidence ("tags:jupyter-notebook") are excluded
           list_transform(
               list_filter(COALESCE(json_extract_string(l.evidence, '$.platforms.*[*]'), []),
                           lambda e: regexp_matches(e, '^tags?:')),
               lambda e: regexp_replace(e, '^tags?:', '')) AS platform_tags
    FROM question_labels AS l
    JOIN question_text AS t USING (site, post_id)
    WHERE l.notebook
      AND (COALESCE(getvariable('platform'), '') = '' OR list_contains(l.platforms, getvariable('platform')))
),
tagged AS (SELECT site, post_id, unnest(tags) AS tag, platform_tags FROM nb)
SELECT tag, count(DISTINCT (site, post_id)) AS questions,
       round(count(DISTINCT (site, post_id)) / (SELECT count(*) FROM nb), 4) AS share
FROM tagged
WHERE NOT list_contains(platform_tags, tag)
GROUP BY tag
ORDER BY questions DESC, tag
LIMIT COALESCE(getvariable('top'), 20);
