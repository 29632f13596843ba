-- title: Unanswered rate and time to accepted answer by stage
-- question: For ML questions of each lifecycle stage, how many get no answer at all, how many have an accepted answer, and how long does it take (median hours, over accepted answers present in the dump; SEDE question exports have none)?
-- param: notebook_only BOOLEAN = true  only notebook questions (false: all ML questions)
-- columns: stage, questions, unanswered, unanswered_rate, accepted, median_hours_to_accepted
WITH q AS (
    SELECT l.stage, p.answer_count, p.accepted_answer_id, a.creation_date - p.creation_date AS to_accepted
    FROM question_labels AS l
    JOIN posts AS p ON p.site = l.site AND p.id = l.post_id
    LEFT JOIN posts AS a ON a.site = p.site AND a.id = p.accepted_answer_id
    WHERE l.ml AND (l.notebook OR NOT COALESCE(getvariable('notebook_only'), true))
)
SELECT stage,
       count(*) AS questions,
       count(*) FILTER (WHERE COALESCE(answer_count, 0) = 0) AS unanswered,
       round(count(*) FILTER (WHERE COALESCE(answer_count, 0) = 0) / count(*), 4) AS unanswered_rate,
       count(accepted_answer_id) AS accepted,
       round(median(epoch(to_accepted)) / 3600, 2) AS median_hours_to_accepted
FROM q
GROUP BY stage
ORDER BY questions DESC, stage;
