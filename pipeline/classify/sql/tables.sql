-- Table of pipeline/classify: one row per question (post_type_id = 1) of question_text.

CREATE TABLE IF NOT EXISTS question_labels (
    site               VARCHAR NOT NULL,
    dump_id            VARCHAR NOT NULL,
    post_id            BIGINT NOT NULL,
    platforms          VARCHAR[] NOT NULL, -- codebook labels, sorted; empty = not a notebook question
    notebook           BOOLEAN NOT NULL,   -- len(platforms) > 0
    ml                 BOOLEAN NOT NULL,
    stage              VARCHAR NOT NULL,   -- one of the 15 codebook stages, or 'none' when ml is false
    stage2             VARCHAR,            -- optional secondary stage
    evidence           JSON NOT NULL,      -- {"platforms": {"jupyter": ["tag:jupyter-notebook", ...]}, "ml": [...], "stage": {...}}
    classifier_version VARCHAR NOT NULL,
    PRIMARY KEY (site, post_id)
);
