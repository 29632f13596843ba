-- Tables filled by pipeline/ingest from the eight dump files (and SEDE CSV exports).
-- Every row carries site and dump_id; keys are (site, id) because ids repeat across sites.
-- Columns are the union of all schema eras (2008-2025): an attribute a dump lacks is NULL,
-- except the counts that old dumps omit when zero (answer/comment/view counts), which are 0.
-- Rerunnable: CREATE ... IF NOT EXISTS.
--
-- dump_id identifies one snapshot of one site: `site@YYYY-MM-DD-xxxxxxxx`, where the date is the
-- newest timestamp in any of the snapshot's files (how current the dump is) and xxxxxxxx the first
-- 8 hex digits of the SHA-256 over the sorted `File:sha256` lines of its files' raw XML/CSV bytes.
-- So the same dump gives the same dump_id whether read from the .7z or an extracted folder, e.g.
-- ai.stackexchange.com@2017-03-13-5c1f0a2e. Ingesting a site replaces all its rows in every table
-- below in one transaction (pipeline/ingest/load.py).

CREATE TABLE IF NOT EXISTS dumps (
    site             VARCHAR NOT NULL,   -- e.g. ai.stackexchange.com
    dump_id          VARCHAR NOT NULL,   -- see below
    file             VARCHAR NOT NULL,   -- Posts, Users, ... (the dump file's stem)
    source           VARCHAR NOT NULL,   -- path of the archive/XML file/CSV as given
    member           VARCHAR,            -- member name inside a .7z archive
    size_bytes       BIGINT NOT NULL,    -- uncompressed bytes parsed
    sha256           VARCHAR NOT NULL,   -- of the raw bytes (the archive member, or the file)
    source_sha256    VARCHAR NOT NULL,   -- of the file on disk (the archive itself for a .7z):
                                         -- same value, file and pipeline_version => re-ingest is a no-op
    rows             BIGINT NOT NULL,
    newest_date      TIMESTAMP,          -- newest CreationDate/LastActivityDate in the file
    parse_seconds    DOUBLE NOT NULL,
    pipeline_version VARCHAR NOT NULL,
    ingested_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (site, file)
);

CREATE TABLE IF NOT EXISTS posts (
    site                     VARCHAR NOT NULL,
    dump_id                  VARCHAR NOT NULL,
    id                       BIGINT NOT NULL,
    post_type_id             SMALLINT NOT NULL,  -- 1 question, 2 answer, 3-8 wiki/other
    accepted_answer_id       BIGINT,
    parent_id                BIGINT,
    creation_date            TIMESTAMP NOT NULL,
    deletion_date            TIMESTAMP,          -- SEDE only
    score                    INTEGER,
    view_count               INTEGER,            -- 0 when omitted (old dumps omit zeros)
    body                     VARCHAR,            -- HTML as in the dump
    owner_user_id            BIGINT,             -- NULL for deleted users; -1 is Community
    owner_display_name       VARCHAR,
    last_editor_user_id      BIGINT,
    last_editor_display_name VARCHAR,
    last_edit_date           TIMESTAMP,
    last_activity_date       TIMESTAMP,
    title                    VARCHAR,
    tags_raw                 VARCHAR,            -- '<a><b>' (before 2024) or '|a|b|' (2024 on)
    tags                     VARCHAR[],          -- parsed, in order
    answer_count             INTEGER,            -- 0 when omitted, NULL for non-questions
    comment_count            INTEGER,
    favorite_count           INTEGER,
    closed_date              TIMESTAMP,
    community_owned_date     TIMESTAMP,
    content_license          VARCHAR,            -- NULL before the attribute existed; see export.py
    is_watermark             BOOLEAN NOT NULL DEFAULT FALSE  -- fabricated rows of 2025 dumps
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS post_tags (
    site     VARCHAR NOT NULL,
    dump_id  VARCHAR NOT NULL,
    post_id  BIGINT NOT NULL,
    tag      VARCHAR NOT NULL,
    position SMALLINT NOT NULL           -- 1-based, in the order the dump lists the tags
    -- key: (site, post_id, tag); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS users (
    site              VARCHAR NOT NULL,
    dump_id           VARCHAR NOT NULL,
    id                BIGINT NOT NULL,
    reputation        INTEGER,
    creation_date     TIMESTAMP,
    display_name      VARCHAR,
    last_access_date  TIMESTAMP,
    website_url       VARCHAR,
    location          VARCHAR,
    about_me          VARCHAR,
    views             INTEGER,
    up_votes          INTEGER,
    down_votes        INTEGER,
    profile_image_url VARCHAR,
    account_id        BIGINT,
    age               INTEGER,            -- only in dumps before 2016
    is_bot            BOOLEAN NOT NULL DEFAULT FALSE  -- Community (-1), named bots; see rules/bots.csv
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS comments (
    site              VARCHAR NOT NULL,
    dump_id           VARCHAR NOT NULL,
    id                BIGINT NOT NULL,
    post_id           BIGINT NOT NULL,
    score             INTEGER,
    text              VARCHAR,
    creation_date     TIMESTAMP,
    user_id           BIGINT,
    user_display_name VARCHAR,
    content_license   VARCHAR
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS tags (
    site              VARCHAR NOT NULL,
    dump_id           VARCHAR NOT NULL,
    id                BIGINT NOT NULL,
    tag_name          VARCHAR NOT NULL,
    count             INTEGER,
    excerpt_post_id   BIGINT,
    wiki_post_id      BIGINT,
    is_moderator_only BOOLEAN,
    is_required       BOOLEAN
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS post_links (
    site            VARCHAR NOT NULL,
    dump_id         VARCHAR NOT NULL,
    id              BIGINT NOT NULL,
    creation_date   TIMESTAMP,
    post_id         BIGINT NOT NULL,
    related_post_id BIGINT NOT NULL,
    link_type_id    SMALLINT NOT NULL,   -- 1 linked, 3 duplicate
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS post_history (
    site                 VARCHAR NOT NULL,
    dump_id              VARCHAR NOT NULL,
    id                   BIGINT NOT NULL,
    post_history_type_id SMALLINT NOT NULL,
    post_id              BIGINT NOT NULL,
    revision_guid        VARCHAR,
    creation_date        TIMESTAMP,
    user_id              BIGINT,
    user_display_name    VARCHAR,
    comment              VARCHAR,
    text                 VARCHAR,
    content_license      VARCHAR
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS votes (
    site          VARCHAR NOT NULL,
    dump_id       VARCHAR NOT NULL,
    id            BIGINT NOT NULL,
    post_id       BIGINT NOT NULL,
    vote_type_id  SMALLINT NOT NULL,
    user_id       BIGINT,
    bounty_amount INTEGER,
    creation_date TIMESTAMP,              -- dumps truncate it to the day
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS badges (
    site      VARCHAR NOT NULL,
    dump_id   VARCHAR NOT NULL,
    id        BIGINT NOT NULL,
    user_id   BIGINT NOT NULL,
    name      VARCHAR NOT NULL,
    date      TIMESTAMP,
    class     SMALLINT,                   -- 1 gold, 2 silver, 3 bronze
    tag_based BOOLEAN
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);
