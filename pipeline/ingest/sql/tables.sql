-- Tables filled by pipeline/ingest from the eight dump files (and SEDE CSV exports).
-- Every row carries site and dump_key; keys are (site, id) because ids repeat across sites.
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
--
-- The rows of the data tables carry dump_key, not dump_id: dump_id is known only once every file
-- of the snapshot has been read (its newest date), while rows are inserted as they are parsed.
-- dump_key is fixed before parsing: the site's snapshot number in this database (1 for the first
-- snapshot loaded, then one more than any key the site has), so (site, dump_key) names one
-- snapshot and `dumps` maps it to the dated dump_id. The tables derived later (question_text,
-- question_labels, question_topics, exports) carry the dated dump_id itself, read through `dumps`.

CREATE TABLE IF NOT EXISTS dumps (  -- one row per dump file ingested per site: provenance of every row
                                    -- (source, checksums, size, parse time); a snapshot made of several
                                    -- Data Explorer exports has a row per export
    site             VARCHAR NOT NULL,   -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_id          VARCHAR NOT NULL,   -- the snapshot, dated: site@YYYY-MM-DD-xxxxxxxx (newest date in its
                                         -- files, 8 hex of their SHA-256)
    dump_key         INTEGER NOT NULL,   -- the snapshot's key in the rows of the data tables: the site's
                                         -- snapshot number, fixed before parsing
    file             VARCHAR NOT NULL,   -- Posts, Users, ... (the dump file's stem)
    source           VARCHAR NOT NULL,   -- the archive/XML file/CSV from its site folder down, or the archive name; never a local path
    member           VARCHAR,            -- member name inside a .7z archive
    size_bytes       BIGINT NOT NULL,    -- uncompressed bytes parsed
    sha256           VARCHAR NOT NULL,   -- SHA-256 of the raw bytes (the archive member, or the file)
    source_sha256    VARCHAR NOT NULL,   -- SHA-256 of the file on disk (the archive itself for a .7z):
                                         -- same value, file and pipeline_version => re-ingest is a no-op
    rows             BIGINT NOT NULL,    -- rows loaded from the file (a Data Explorer export's rows that
                                         -- an earlier export of the snapshot already gave count there)
    newest_date      TIMESTAMP,          -- newest CreationDate/LastActivityDate in the file
    parse_seconds    DOUBLE NOT NULL,    -- time spent parsing the file
    pipeline_version VARCHAR NOT NULL,   -- ingest's version when the file was loaded
    ingested_at      TIMESTAMP NOT NULL, -- when the file was loaded (local time)
    PRIMARY KEY (site, file, source_sha256)
);

CREATE TABLE IF NOT EXISTS posts (  -- one row per post of a dump (Posts.xml or a Data Explorer export):
                                    -- questions, answers, wiki and other posts
    site                     VARCHAR NOT NULL,   -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_key                 INTEGER NOT NULL,  -- the site's snapshot number, fixed before parsing (dumps maps it to dump_id)
    id                       BIGINT NOT NULL,    -- the post's id on its site (Id)
    post_type_id             SMALLINT NOT NULL,  -- 1 question, 2 answer, 3-8 wiki and other kinds
    accepted_answer_id       BIGINT,             -- the accepted answer's post id (questions only)
    parent_id                BIGINT,             -- the question an answer belongs to (answers only)
    creation_date            TIMESTAMP NOT NULL, -- when the post was created (UTC)
    deletion_date            TIMESTAMP,          -- when the post was deleted (Data Explorer exports only)
    score                    INTEGER,            -- up votes minus down votes
    view_count               INTEGER,            -- page views; 0 when omitted (old dumps omit zeros)
    body                     VARCHAR,            -- the post's HTML as in the dump
    owner_user_id            BIGINT,             -- the author (users.id); NULL for deleted users; -1 is Community
    owner_display_name       VARCHAR,            -- author's name when the post has no user id (deleted or
                                                 -- anonymous users)
    last_editor_user_id      BIGINT,             -- user id of the last editor
    last_editor_display_name VARCHAR,            -- name of the last editor when it has no user id
    last_edit_date           TIMESTAMP,          -- when the post was last edited (UTC)
    last_activity_date       TIMESTAMP,          -- last edit, answer or comment (UTC)
    title                    VARCHAR,            -- the question's title (NULL for answers)
    tags_raw                 VARCHAR,            -- '<a><b>' (before 2024) or '|a|b|' (2024 on)
    tags                     VARCHAR[],          -- parsed from tags_raw, in order
    answer_count             INTEGER,            -- answers; 0 when omitted, NULL for non-questions
    comment_count            INTEGER,            -- comments on the post
    favorite_count           INTEGER,            -- users who bookmarked the question (NULL in dumps that
                                                 -- dropped it)
    closed_date              TIMESTAMP,          -- when the question was closed, if it was (UTC)
    community_owned_date     TIMESTAMP,          -- when the post became community wiki, if it did (UTC)
    content_license          VARCHAR,            -- CC BY-SA version, e.g. CC BY-SA 4.0; NULL in dumps before the
                                                 -- attribute existed (exports infer it from the date)
    is_watermark             BOOLEAN NOT NULL DEFAULT FALSE  -- TRUE for the fabricated watermark rows of 2025 dumps
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS post_tags (  -- one row per tag of a post, in the order the dump lists them
    site     VARCHAR NOT NULL,           -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_key INTEGER NOT NULL,          -- the site's snapshot number, fixed before parsing (dumps maps it to dump_id)
    post_id  BIGINT NOT NULL,            -- the question (posts.id)
    tag      VARCHAR NOT NULL,           -- the tag's name, e.g. jupyter-notebook
    position SMALLINT NOT NULL           -- 1-based, in the order the dump lists the tags
    -- key: (site, post_id, tag); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS users (  -- one row per user account of a dump (Users.xml)
    site              VARCHAR NOT NULL,   -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_key          INTEGER NOT NULL,  -- the site's snapshot number, fixed before parsing (dumps maps it to dump_id)
    id                BIGINT NOT NULL,    -- the user's id on its site; -1 is the Community bot
    reputation        INTEGER,            -- reputation points when the dump was made
    creation_date     TIMESTAMP,          -- when the account was created (UTC)
    display_name      VARCHAR,            -- the user's public name
    last_access_date  TIMESTAMP,          -- when the user last loaded a page (UTC)
    website_url       VARCHAR,            -- the website on the user's profile
    location          VARCHAR,            -- free-text location on the user's profile
    about_me          VARCHAR,            -- the profile's about text (HTML)
    views             INTEGER,            -- profile views
    up_votes          INTEGER,            -- up votes the user cast
    down_votes        INTEGER,            -- down votes the user cast
    profile_image_url VARCHAR,            -- the avatar's URL
    account_id        BIGINT,             -- the network-wide Stack Exchange account id (same person across
                                          -- sites)
    age               INTEGER,            -- the user's stated age; only in dumps before 2016
    is_bot            BOOLEAN NOT NULL DEFAULT FALSE  -- TRUE for Community (-1) and named bots (rules/bots.v1.csv)
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS comments (  -- one row per comment on a post (Comments.xml)
    site              VARCHAR NOT NULL, -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_key          INTEGER NOT NULL, -- the site's snapshot number, fixed before parsing (dumps maps it to dump_id)
    id                BIGINT NOT NULL, -- the comment's id on its site
    post_id           BIGINT NOT NULL, -- the post commented on (posts.id)
    score             INTEGER, -- up votes of the comment
    text              VARCHAR, -- the comment's text (Markdown-rendered to plain text by Stack Exchange)
    creation_date     TIMESTAMP, -- when the comment was written (UTC)
    user_id           BIGINT, -- the commenter's user id (NULL for deleted users)
    user_display_name VARCHAR, -- the commenter's name when there is no user id
    content_license   VARCHAR -- CC BY-SA version of the comment, e.g. CC BY-SA 4.0
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS tags (  -- one row per tag of a site (Tags.xml)
    site              VARCHAR NOT NULL, -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_key          INTEGER NOT NULL, -- the site's snapshot number, fixed before parsing (dumps maps it to dump_id)
    id                BIGINT NOT NULL, -- the tag's id on its site
    tag_name          VARCHAR NOT NULL, -- the tag, e.g. jupyter-notebook
    count             INTEGER, -- questions carrying the tag
    excerpt_post_id   BIGINT, -- the post holding the tag's excerpt
    wiki_post_id      BIGINT, -- the post holding the tag's wiki
    is_moderator_only BOOLEAN, -- only moderators may use the tag
    is_required       BOOLEAN -- every question must carry one of the required tags (meta sites)
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS post_links (  -- links between posts: related and duplicate (PostLinks.xml)
    site            VARCHAR NOT NULL,    -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_key        INTEGER NOT NULL,   -- the site's snapshot number, fixed before parsing (dumps maps it to dump_id)
    id              BIGINT NOT NULL,     -- the link's id on its site
    creation_date   TIMESTAMP,           -- when the link was made (UTC)
    post_id         BIGINT NOT NULL,     -- the linking post (posts.id)
    related_post_id BIGINT NOT NULL,     -- the linked post (posts.id)
    link_type_id    SMALLINT NOT NULL,   -- 1 linked, 3 duplicate
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS post_history (  -- one row per revision event of a post (PostHistory.xml)
    site                 VARCHAR NOT NULL, -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_key             INTEGER NOT NULL, -- the site's snapshot number, fixed before parsing (dumps maps it to dump_id)
    id                   BIGINT NOT NULL, -- the event's id on its site
    post_history_type_id SMALLINT NOT NULL, -- what happened: 1-3 initial title/body/tags, 4-6 edits, 10-11
                                            -- close/reopen, ... (Stack Exchange's PostHistoryTypes)
    post_id              BIGINT NOT NULL, -- the post (posts.id)
    revision_guid        VARCHAR, -- groups the events of one revision
    creation_date        TIMESTAMP, -- when the event happened (UTC)
    user_id              BIGINT, -- who made the change (NULL for deleted users)
    user_display_name    VARCHAR, -- the editor's name when there is no user id
    comment              VARCHAR, -- the edit summary, or the close reason
    text                 VARCHAR, -- the new title, body or tags, or event details as JSON
    content_license      VARCHAR -- CC BY-SA version of the revision
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS votes (  -- one row per vote (Votes.xml); voters are anonymous except for
                                    -- bounties and favorites
    site          VARCHAR NOT NULL,       -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_key      INTEGER NOT NULL,      -- the site's snapshot number, fixed before parsing (dumps maps it to dump_id)
    id            BIGINT NOT NULL,        -- the vote's id on its site
    post_id       BIGINT NOT NULL,        -- the post voted on (posts.id)
    vote_type_id  SMALLINT NOT NULL,      -- 2 up, 3 down, 1 accepted answer, 5 favorite, 8-9 bounty
                                          -- start/close, ... (Stack Exchange's VoteTypes)
    user_id       BIGINT,                 -- the voter, only for favorites and bounties
    bounty_amount INTEGER,                -- reputation offered or awarded, for bounty votes
    creation_date TIMESTAMP,              -- dumps truncate it to the day
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);

CREATE TABLE IF NOT EXISTS badges (  -- one row per badge awarded to a user (Badges.xml)
    site      VARCHAR NOT NULL,           -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_key  INTEGER NOT NULL,          -- the site's snapshot number, fixed before parsing (dumps maps it to dump_id)
    id        BIGINT NOT NULL,            -- the award's id on its site
    user_id   BIGINT NOT NULL,            -- the user awarded (users.id)
    name      VARCHAR NOT NULL,           -- the badge, e.g. Teacher or a tag name for tag badges
    date      TIMESTAMP,                  -- when it was awarded (UTC)
    class     SMALLINT,                   -- 1 gold, 2 silver, 3 bronze
    tag_based BOOLEAN                     -- the badge is for a tag (name is then the tag)
    -- key: (site, id); not declared (an index costs bulk-load throughput; ingest replaces whole sites)
);
