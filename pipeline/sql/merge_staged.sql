-- Move one dump table's rows for the staged sites from a staging database (attached as `staged`)
-- into the main database, replacing that site's previous snapshot. Run by flows/ingest.py for
-- every table of dump_tables.sql inside ONE transaction per staged source, so readers see either
-- the old snapshot or the new one. `{table}` is a table name taken from dump_tables.sql, never
-- user input; the parameter is the list of staged sites.

DELETE FROM main.{table} WHERE site IN (SELECT unnest(?::VARCHAR[]));
INSERT INTO main.{table} BY NAME SELECT * FROM staged.{table};
