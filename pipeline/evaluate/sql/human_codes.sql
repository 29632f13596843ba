-- Statements of pipeline/evaluate/human_codes.py (coded sheets in and out of `human_codes`), one per
-- `-- name:` section.

-- name: machine_labels
-- The classifier's stored labels of a coded sheet's questions. Needs a registered table
-- `sheet_keys(site, post_id)`; a question without labels is not returned.
SELECT l.site, l.post_id, l.platforms, l.ml, l.stage, l.stage2
FROM sheet_keys AS k
JOIN question_labels AS l ON l.site = k.site AND l.post_id = k.post_id
ORDER BY l.site, l.post_id;

-- name: coded_elsewhere
-- Questions of the sheet being loaded (registered `new_codes`) that another sheet already codes.
-- Parameter: the sheet's name.
SELECT DISTINCT n.site, n.post_id, h.sheet
FROM new_codes AS n
JOIN human_codes AS h ON h.site = n.site AND h.post_id = n.post_id AND h.sheet <> ?
ORDER BY n.site, n.post_id;

-- name: delete_sheet
-- Parameter: the sheet whose rows a load replaces.
DELETE FROM human_codes WHERE sheet = ?;

-- name: insert_codes
INSERT INTO human_codes BY NAME SELECT * FROM new_codes;

-- name: has_table
-- Whether the database has the human_codes table (a file made before it existed, opened read-only, does not).
SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = 'human_codes';
