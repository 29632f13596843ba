-- Table of pipeline/classify: one row per question (post_type_id = 1) of question_text.

CREATE TABLE IF NOT EXISTS question_labels (  -- one row per question: notebook platforms, ML or not,
                                              -- lifecycle stage, with the evidence
    site               VARCHAR NOT NULL,   -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_id            VARCHAR NOT NULL,   -- the snapshot the row comes from (dumps.dump_id)
    post_id            BIGINT NOT NULL,    -- the question (posts.id)
    platforms          VARCHAR[] NOT NULL, -- codebook labels, sorted; empty = not a notebook question
    notebook           BOOLEAN NOT NULL,   -- len(platforms) > 0
    ml                 BOOLEAN NOT NULL,   -- the question is about machine learning (rules, then the
                                           -- trained layer where they are unsure)
    stage              VARCHAR NOT NULL,   -- one of the 15 codebook stages, or 'none' when ml is false
    stage2             VARCHAR,            -- optional secondary stage
    evidence           JSON NOT NULL,      -- {"platforms": {"jupyter": ["tag:jupyter-notebook", ...]}, "ml": [...], "stage": {...}}
    classifier_version VARCHAR NOT NULL,   -- the rules' and model's versions that decided the row
    PRIMARY KEY (site, post_id)
);
