-- Tables of pipeline/coverage: which lifecycle stages topics are about, and how much each
-- stage is discussed by notebook ML questions compared with non-notebook ML questions.

CREATE TABLE IF NOT EXISTS topic_stages (  -- the lifecycle stages each topic is about, ranked, with their
                                           -- evidence
    topic_model_id VARCHAR NOT NULL,      -- the model (topic_models.topic_model_id)
    topic_id       INTEGER NOT NULL,      -- the topic (topics.topic_id)
    rank           SMALLINT NOT NULL,     -- 1 = the topic's main stage
    stage          VARCHAR NOT NULL,      -- a codebook stage
    score          DOUBLE NOT NULL,       -- combined member share and term evidence, 0..1
    source         VARCHAR NOT NULL,      -- 'members+terms' or 'override'
    evidence       JSON NOT NULL,         -- {"member_share": .., "members": n, "terms": [...], "override": {...}}
    mapping_version VARCHAR NOT NULL,     -- pipeline/coverage's mapping version
    PRIMARY KEY (topic_model_id, topic_id, rank)
);

CREATE TABLE IF NOT EXISTS stage_coverage (  -- how often each lifecycle stage is the primary stage of
                                             -- notebook ML questions vs other ML questions, with the 95%
                                             -- interval of the difference and a verdict
    site            VARCHAR NOT NULL,     -- a site, or '*' for all sites of the selection together
    scope           VARCHAR NOT NULL,     -- 'all', 'platform' or 'year'
    grp             VARCHAR NOT NULL,     -- 'all', a platform label, or a year
    stage           VARCHAR NOT NULL,     -- each of the 15 codebook stages, zeros included
    n_notebook      INTEGER NOT NULL,     -- notebook ML questions whose primary stage is `stage`
    total_notebook  INTEGER NOT NULL,     -- notebook ML questions in the group
    share_notebook  DOUBLE,               -- n_notebook / total_notebook
    n_baseline      INTEGER NOT NULL,     -- non-notebook ML questions (same sites, years)
    total_baseline  INTEGER NOT NULL,     -- non-notebook ML questions in the group
    share_baseline  DOUBLE,               -- n_baseline / total_baseline
    diff            DOUBLE,               -- share_notebook - share_baseline
    ci_low          DOUBLE,               -- 95% Newcombe (hybrid Wilson score) interval of diff
    ci_high         DOUBLE,               -- upper end of that interval (ci_low is the lower)
    verdict         VARCHAR NOT NULL,     -- discussed / under-discussed / skipped (pipeline/coverage/stats.py)
    topic_model_id  VARCHAR,              -- the topic view, scope 'all' only
    n_topics        INTEGER,              -- topics whose main stage is `stage`
    topic_questions INTEGER,              -- notebook ML questions in those topics
    topic_share     DOUBLE,               -- topic_questions / notebook ML questions in the topic model
    classifier_version VARCHAR NOT NULL,  -- question_labels.classifier_version of the labels counted
    coverage_version   VARCHAR NOT NULL,  -- pipeline/coverage's version that wrote the row
    PRIMARY KEY (site, scope, grp, stage)
);
