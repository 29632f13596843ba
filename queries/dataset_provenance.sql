-- title: Data-set provenance
-- question: Which dump files is this database built from: site, dump id, file, rows, SHA-256 checksum, newest row date and pipeline version?
-- param: site VARCHAR = '%'  site to list (LIKE pattern; '%' means all sites)
-- columns: site, dump_id, file, source, member, rows, size_bytes, sha256, newest_date, pipeline_version
SELECT site, dump_id, file, source, member, rows, size_bytes, sha256, newest_date, pipeline_version
FROM dumps
WHERE site LIKE COALESCE(getvariable('site'), '%')
ORDER BY site, file;
