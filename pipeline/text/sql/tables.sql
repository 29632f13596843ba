-- Table of pipeline/text: one row per question (post_type_id = 1), its HTML parsed once.
-- Key: (site, post_id), not declared: a declared key is an ART index that DuckDB holds in memory and
-- rebuilds on every replace of a scope (a 6M-question replace ran out of a 256 MB cap with it, 207 MB
-- peak without). Uniqueness holds by construction: the step replaces a whole scope from a unique source.
-- Databases made with the key lose it on connect, rows kept (pipeline/steps.py rekey_changed).

CREATE TABLE IF NOT EXISTS question_text (  -- one row per question: its HTML parsed once into prose, code,
                                            -- inline code and links
    site          VARCHAR NOT NULL,   -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_id       VARCHAR NOT NULL,   -- the snapshot the row comes from (dumps.dump_id)
    post_id       BIGINT NOT NULL,    -- the question (posts.id)
    creation_date TIMESTAMP NOT NULL, -- when the question was asked (UTC)
    title         VARCHAR NOT NULL,   -- the question's title
    prose         VARCHAR NOT NULL,   -- body without code, tags stripped, entities decoded
    code          VARCHAR NOT NULL,   -- <pre> blocks joined by blank lines (tracebacks live here)
    inline_code   VARCHAR[] NOT NULL, -- <code> outside <pre>
    links         VARCHAR[] NOT NULL, -- href targets
    tags          VARCHAR[] NOT NULL, -- the question's tags, in order
    text_version  VARCHAR NOT NULL    -- pipeline/text's version that wrote the row
);
