-- title: Unanswered rate and time to accepted answer by stage
-- question: For ML questions of each lifecycle stage, how many get no answer at all, how many have an accepted answer, and how long does it take to be accepted? The time needs the accepted answer's own row: Data Explorer question exports hold no answers, so for them accepted_in_dump is 0 and the median is empty (NULL), not zero.
-- param: notebook_only BOOLEAN = true  only notebook questions (false: all ML questions)
-- columns: stage, questions, unanswered, unanswered_rate, accepted, accepted_in_dump, median_hours_to_accepted
WITH q AS (
    SELECT l.stage, p.answer_count, p.accepted_answer_id, a.id AS accepted_row, a.creation_date - p.creation_date AS to_accepted
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
       count(accepted_row) AS accepted_in_dump,
       round(median(epoch(to_accepted)) / 3600, 2) AS median_hours_to_accepted
FROM q
GROUP BY stage
ORDER BY questions DESC, stage;
