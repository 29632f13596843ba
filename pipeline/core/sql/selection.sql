-- The pieces of a question selection (pipeline/core/selection.py), one per `-- name:` section.
-- A selection runs against question_labels (alias l) joined to question_text (alias t); each
-- filter is one condition with one parameter, joined with AND.

-- name: select
-- {columns}: a column list from code; {where}: the conditions below.
SELECT {columns} FROM question_labels AS l JOIN question_text AS t USING (site, post_id) {where} ORDER BY l.site, l.post_id

-- name: counts
-- {columns}: grouping columns from code; one row per distinct combination, with its number of
-- questions (memory bounded by the groups, not by the questions).
SELECT {columns}, count(*) AS n FROM question_labels AS l JOIN question_text AS t USING (site, post_id) {where} GROUP BY ALL ORDER BY ALL

-- name: everything
TRUE

-- name: sites
l.site IN (SELECT unnest(?::VARCHAR[]))

-- name: platforms
list_has_any(l.platforms, ?::VARCHAR[])

-- name: notebook
l.notebook = ?

-- name: ml
l.ml = ?

-- name: year_from
year(t.creation_date) >= ?

-- name: year_to
year(t.creation_date) <= ?
