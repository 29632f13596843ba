-- Tables of pipeline/coverage: which lifecycle stages topics are about, and how much each
-- stage is discussed by notebook ML questions compared with non-notebook ML questions.

CREATE TABLE IF NOT EXISTS topic_stages (
    topic_model_id VARCHAR NOT NULL,
    topic_id       INTEGER NOT NULL,
    rank           SMALLINT NOT NULL,     -- 1 = the topic's main stage
    stage          VARCHAR NOT NULL,      -- a codebook stage
    score          DOUBLE NOT NULL,       -- combined member share and term evidence, 0..1
    source         VARCHAR NOT NULL,      -- 'members+terms' or 'override'
    evidence       JSON NOT NULL,         -- {"member_share": .., "members": n, "terms": [...], "override": {...}}
    mapping_version VARCHAR NOT NULL,
    PRIMARY KEY (topic_model_id, topic_id, rank)
);

CREATE TABLE IF NOT EXISTS stage_coverage (
    site            VARCHAR NOT NULL,     -- a site, or '*' for all sites of the selection together
    scope           VARCHAR NOT NULL,     -- 'all', 'platform' or 'year'
    grp             VARCHAR NOT NULL,     -- 'all', a platform label, or a year
    stage           VARCHAR NOT NULL,     -- each of the 15 codebook stages, zeros included
    n_notebook      INTEGER NOT NULL,     -- notebook ML questions whose primary stage is `stage`
    total_notebook  INTEGER NOT NULL,
    share_notebook  DOUBLE,
    n_baseline      INTEGER NOT NULL,     -- non-notebook ML questions (same sites, years)
    total_baseline  INTEGER NOT NULL,
    share_baseline  DOUBLE,
    diff            DOUBLE,               -- share_notebook - share_baseline
    ci_low          DOUBLE,               -- 95% Newcombe (hybrid Wilson score) interval of diff
    ci_high         DOUBLE,
    verdict         VARCHAR NOT NULL,     -- discussed / under-discussed / skipped (pipeline/coverage/stats.py)
    topic_model_id  VARCHAR,              -- the topic view, scope 'all' only
    n_topics        INTEGER,              -- topics whose main stage is `stage`
    topic_questions INTEGER,              -- notebook ML questions in those topics
    topic_share     DOUBLE,
    classifier_version VARCHAR NOT NULL,
    coverage_version   VARCHAR NOT NULL,
    PRIMARY KEY (site, scope, grp, stage)
);
