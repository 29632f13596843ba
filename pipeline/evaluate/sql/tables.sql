-- Table of pipeline/evaluate: what people coded, read from coded sheets (stackmine agreement FILE --load).
-- Not derived from the dumps, so never rebuilt or dropped by a new version (pipeline/steps.py).

CREATE TABLE IF NOT EXISTS human_codes (  -- codes people gave questions on a blind coding sheet (stackmine
                                          -- export --sample, then stackmine agreement FILE --load): one row
                                          -- per question and coder
    sheet        VARCHAR NOT NULL,   -- the sheet's name (its file name unless --sheet gave one); loading a
                                     -- sheet again replaces all of its rows
    sheet_sha256 VARCHAR NOT NULL,   -- SHA-256 of the sheet file's bytes as loaded
    line         INTEGER NOT NULL,   -- line of the sheet where the question's row starts
    site         VARCHAR NOT NULL,   -- the Stack Exchange site, e.g. stackoverflow.com
    post_id      BIGINT NOT NULL,    -- the question (posts.id)
    coder        SMALLINT NOT NULL,  -- 1 or 2: the sheet's coder1_* or coder2_* columns
    platforms    VARCHAR[] NOT NULL, -- codebook platforms the coder saw, sorted; empty = not a notebook question
    ml           BOOLEAN NOT NULL,   -- the coder's call: is the question part of an ML workflow
    stage        VARCHAR NOT NULL,   -- the coder's primary lifecycle stage; 'none' when ml is false
    stage2       VARCHAR,            -- the coder's secondary stage, NULL when none
    note         VARCHAR,            -- the coder's note, NULL when empty
    PRIMARY KEY (site, post_id, coder)
);
