-- Tables of pipeline/topics (BERTopic over a Selection of labelled questions).
-- A topic model is identified by topic_model_id = sha256 of (selection, parameters, content hash
-- of the documents, versions), so rerunning on the same input finds its id and is skipped, and a
-- changed input gets a new id that replaces the old model of the same selection and parameters.
-- Question-level rows carry site; topic-level rows reach their sites through topic_models.sites.

CREATE TABLE IF NOT EXISTS topic_models (
    topic_model_id VARCHAR PRIMARY KEY,  -- 16 hex chars
    selection      JSON NOT NULL,         -- Selection.describe()
    parameters     JSON NOT NULL,         -- resolved TopicParams (after the corpus-size rule)
    versions       JSON NOT NULL,         -- bertopic, umap, hdbscan, sklearn, embedder, classifier
    content_hash   VARCHAR NOT NULL,      -- sha256 of the ordered (site, post_id, document) list
    sites          VARCHAR[] NOT NULL,    -- sites present in the documents
    n_docs         INTEGER NOT NULL,
    n_topics       INTEGER NOT NULL,      -- excluding the outlier topic -1
    n_outliers     INTEGER NOT NULL,
    coherence      DOUBLE,                -- mean NPMI of top-10 terms over the corpus (pipeline/topics/coherence.py)
    diversity      DOUBLE,                -- unique share of the top-10 terms of all topics
    fit_seconds    DOUBLE NOT NULL,
    created        TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS topics (
    topic_model_id VARCHAR NOT NULL,
    topic_id       INTEGER NOT NULL,      -- -1 = BERTopic's outliers
    label          VARCHAR NOT NULL,      -- id + top four terms, e.g. 3_kernel_jupyter_dies_memory
    size           INTEGER NOT NULL,
    terms          VARCHAR[] NOT NULL,    -- top terms by c-TF-IDF, best first
    weights        DOUBLE[] NOT NULL,     -- their c-TF-IDF weights
    PRIMARY KEY (topic_model_id, topic_id)
);

CREATE TABLE IF NOT EXISTS question_topics (
    topic_model_id VARCHAR NOT NULL,
    site           VARCHAR NOT NULL,
    dump_id        VARCHAR NOT NULL,
    post_id        BIGINT NOT NULL,
    topic_id       INTEGER NOT NULL,
    probability    DOUBLE NOT NULL,       -- HDBSCAN membership strength, or cosine to the centroid for k-means
    PRIMARY KEY (topic_model_id, site, post_id)
);

CREATE TABLE IF NOT EXISTS topics_over_time (
    topic_model_id VARCHAR NOT NULL,
    site           VARCHAR NOT NULL,
    topic_id       INTEGER NOT NULL,
    period         VARCHAR NOT NULL,      -- 'YYYY' or 'YYYY-Qn'
    n              INTEGER NOT NULL,
    PRIMARY KEY (topic_model_id, site, topic_id, period)
);

-- Cache of document embeddings from per-document embedders (model2vec): a question whose text
-- did not change is never embedded twice. Keyed by content, not by post, so an edited question
-- gets a fresh vector and an unchanged one is reused across selections and runs.
CREATE TABLE IF NOT EXISTS embedding_cache (
    site      VARCHAR NOT NULL,
    model     VARCHAR NOT NULL,           -- embedder name incl. weights hash
    text_hash VARCHAR NOT NULL,           -- sha256 of the embedded document text
    embedding FLOAT[] NOT NULL,
    PRIMARY KEY (site, model, text_hash)
);
