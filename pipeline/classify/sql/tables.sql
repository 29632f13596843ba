-- Table of pipeline/classify: one row per question (post_type_id = 1) of question_text.
-- Key: (site, post_id), not declared: a declared key is an ART index that DuckDB holds in memory and
-- rebuilds on every replace of a scope (a 6M-question replace ran out of a 256 MB cap with it, 207 MB
-- peak without). Uniqueness holds by construction: the step replaces a whole scope from a unique source.
-- Databases made with the key lose it on connect, rows kept (pipeline/steps.py rekey_changed).

CREATE TABLE IF NOT EXISTS question_labels (  -- one row per question: notebook platforms, ML or not,
                                              -- lifecycle stage, with the evidence
    site               VARCHAR NOT NULL,   -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_id            VARCHAR NOT NULL,   -- the snapshot the row comes from (dumps.dump_id)
    post_id            BIGINT NOT NULL,    -- the question (posts.id)
    platforms          VARCHAR[] NOT NULL, -- codebook labels, sorted; empty = not a notebook question
    notebook           BOOLEAN NOT NULL,   -- len(platforms) > 0
    ml                 BOOLEAN NOT NULL,   -- the question is about machine learning (the trained layer where
                                           -- the rules found an ML term; no ML term: no)
    stage              VARCHAR NOT NULL,   -- one of the 15 codebook stages (the trained layer's most probable),
                                           -- or 'none' when ml is false
    stage2             VARCHAR,            -- optional secondary stage (the runner-up, when its P(stage) >= 0.25)
    evidence           JSON NOT NULL,      -- {"platforms": {"jupyter": ["tag:jupyter-notebook", ...]}, "ml": [...], "stage": {...}, "model": {...}}
    classifier_version VARCHAR NOT NULL,   -- the rules' and model's versions that decided the row
    p_ml               DOUBLE,             -- the trained layer's calibrated P(ml); questions without an ML term
                                           -- get the model file's rate for such questions; NULL with rules alone
    p_stage            DOUBLE[]            -- P(stage) per codebook stage, in CODEBOOK.md's order (15 values);
                                           -- NULL unless ml
);
