-- Provenance of an export: every dump file ingested for the exported sites (DATASHEET.md lists them).
-- Parameter 1: the sites, as a VARCHAR[].
SELECT site, dump_id, file, source, member, sha256, rows, size_bytes, newest_date, pipeline_version
FROM dumps
WHERE site IN (SELECT unnest(?::VARCHAR[]))
ORDER BY site, file;
