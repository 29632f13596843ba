-- The ledger of step runs (pipeline/core/ledger.py): which step last produced its output from which inputs.
-- A step is skipped when the key of its inputs (checksums of the raw files, the state of the tables it
-- reads, its version and rule files) equals the recorded key AND its output still has the recorded
-- fingerprint. Bumping a version constant changes the key, so everything downstream recomputes.
-- Lives in the database (not in Prefect's result store) because the outputs it vouches for do.

CREATE TABLE IF NOT EXISTS stage_runs (  -- the ledger of step runs: which step last produced its output for
                                         -- a scope, from which inputs
    stage        VARCHAR NOT NULL,   -- the step: ingest, text, classify, topics, stages, export, report
    scope        VARCHAR NOT NULL,   -- a source path for ingest, a site, or a selection's JSON
    site         VARCHAR NOT NULL,   -- site(s) the output covers, comma-separated
    input_key    VARCHAR NOT NULL,   -- sha256 over input checksums + upstream keys + version
    output_key   VARCHAR NOT NULL,   -- fingerprint of the output when it was recorded
    version      VARCHAR NOT NULL,   -- the stage's version constant(s)
    rows         BIGINT,             -- rows the step wrote, when it reports a count
    seconds      DOUBLE NOT NULL,    -- how long the step ran
    finished_at  TIMESTAMP NOT NULL, -- when the run was recorded (local time)
    PRIMARY KEY (stage, scope)
);
