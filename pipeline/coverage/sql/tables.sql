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

CREATE TABLE IF NOT EXISTS stage_coverage (  -- per selection, group and lifecycle stage: the share of
                                             -- notebook ML questions against other ML questions, raw (the
                                             -- classifier's counts) and corrected for its known errors,
                                             -- the difference with intervals, and a verdict
    selection_id        VARCHAR NOT NULL, -- first 16 hex of the SHA-256 of `selection` (one selection's rows)
    selection           JSON NOT NULL,    -- the question selection these rows are about (Selection.describe())
    site                VARCHAR NOT NULL, -- a site, or '*' for the selection's sites that have notebook ML questions
    scope               VARCHAR NOT NULL, -- 'all', 'platform' or 'year'
    grp                 VARCHAR NOT NULL, -- 'all', a platform label, or a year
    stage               VARCHAR NOT NULL, -- each of the 15 codebook stages, zeros included
    n_notebook          INTEGER NOT NULL, -- notebook questions the classifier labels ML with this primary stage
    total_notebook      INTEGER NOT NULL, -- notebook questions the classifier labels ML, in the group
    raw_share_notebook  DOUBLE,           -- n_notebook / total_notebook (the classifier's count, uncorrected)
    n_baseline          INTEGER NOT NULL, -- non-notebook questions (same sites, years) labelled ML with this stage
    total_baseline      INTEGER NOT NULL, -- non-notebook questions labelled ML, in the group
    raw_share_baseline  DOUBLE,           -- n_baseline / total_baseline
    raw_diff            DOUBLE,           -- raw_share_notebook - raw_share_baseline
    raw_diff_low        DOUBLE,           -- 95% Newcombe interval of raw_diff: sampling error only, the labels taken as true
    raw_diff_high       DOUBLE,           -- upper end of that interval
    share_notebook      DOUBLE,           -- corrected share: the estimated true share of the stage among notebook ML
                                          -- questions (NULL for a stage pooled with other rare stages)
    share_notebook_low  DOUBLE,           -- 95% percentile bootstrap interval of share_notebook (gold and group re-drawn)
    share_notebook_high DOUBLE,           -- upper end (for a pooled stage: the pool's, an upper bound on the stage's)
    notebook_at_zero    DOUBLE,           -- share of bootstrap replicates with share_notebook exactly 0 (near 1: the
                                          -- interval is a boundary artefact, not evidence of absence)
    share_baseline      DOUBLE,           -- corrected share among baseline ML questions
    share_baseline_low  DOUBLE,           -- 95% interval of share_baseline
    share_baseline_high DOUBLE,           -- upper end of that interval
    baseline_at_zero    DOUBLE,           -- share of replicates with share_baseline exactly 0
    count_bound         DOUBLE,           -- upper bound of the notebook share that needs no correction: the upper 95%
                                          -- bound of the predicted share over the lower 95% bound of the stage's recall
    diff                DOUBLE,           -- share_notebook - share_baseline (corrected)
    diff_low            DOUBLE,           -- 95% percentile bootstrap interval of diff
    diff_high           DOUBLE,           -- upper end of that interval
    p_value             DOUBLE,           -- bootstrap p-value of "diff = 0" (NULL where the stage is not tested)
    p_adjusted          DOUBLE,           -- p_value after the multiplicity correction over the stages of the group
    adjusted_level      DOUBLE,           -- the confidence level the verdict used (1 - the corrected threshold)
    diff_low_adj        DOUBLE,           -- interval of diff at adjusted_level
    diff_high_adj       DOUBLE,           -- upper end of that interval
    estimated_as        VARCHAR NOT NULL, -- the stage itself, or 'pooled-rare' when too few gold questions have it
    gold_support        INTEGER NOT NULL, -- gold-labelled questions whose primary stage is `stage`
    recall              DOUBLE,           -- the classifier's recall of the stage on gold questions it never saw
    verdict             VARCHAR NOT NULL, -- more discussed / less discussed / rare / on par / undetermined
                                          -- (rules: pipeline/coverage/rules/verdicts.v1.json, README "Stage coverage")
    reason              VARCHAR NOT NULL, -- the rule and the numbers that decided the verdict, e.g. recall=0.10<0.20
    rules_version       VARCHAR NOT NULL, -- version of the verdict rules
    method              VARCHAR NOT NULL, -- estimator, bootstrap replicates and seed
    topic_model_id      VARCHAR,          -- the topic view, scope 'all' only
    n_topics            INTEGER,          -- topics whose main stage is `stage`
    topic_questions     INTEGER,          -- notebook ML questions in those topics
    topic_share         DOUBLE,           -- topic_questions / notebook ML questions in the topic model
    classifier_version  VARCHAR NOT NULL, -- question_labels.classifier_version of the labels counted
    coverage_version    VARCHAR NOT NULL, -- pipeline/coverage's version that wrote the row
    PRIMARY KEY (selection_id, site, scope, grp, stage)
);
