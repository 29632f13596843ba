-- Table of pipeline/text: one row per question (post_type_id = 1), its HTML parsed once.

CREATE TABLE IF NOT EXISTS question_text (
    site          VARCHAR NOT NULL,
    dump_id       VARCHAR NOT NULL,
    post_id       BIGINT NOT NULL,
    creation_date TIMESTAMP NOT NULL,
    title         VARCHAR NOT NULL,
    prose         VARCHAR NOT NULL,   -- body without code, tags stripped, entities decoded
    code          VARCHAR NOT NULL,   -- <pre> blocks joined by blank lines (tracebacks live here)
    inline_code   VARCHAR[] NOT NULL, -- <code> outside <pre>
    links         VARCHAR[] NOT NULL, -- href targets
    tags          VARCHAR[] NOT NULL,
    text_version  VARCHAR NOT NULL,
    PRIMARY KEY (site, post_id)
);
