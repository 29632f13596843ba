-- Tables of pipeline/topics (BERTopic over a Selection of labelled questions).
-- A topic model is identified by topic_model_id = sha256 of (selection, parameters, content hash
-- of the documents, versions), so rerunning on the same input finds its id and is skipped, and a
-- changed input gets a new id that replaces the old model of the same selection and parameters.
-- Question-level rows carry site; topic-level rows reach their sites through topic_models.sites.

CREATE TABLE IF NOT EXISTS topic_models (  -- one row per fitted BERTopic model: selection, parameters,
                                           -- versions and quality
    topic_model_id VARCHAR PRIMARY KEY,  -- 16 hex chars
    selection      JSON NOT NULL,         -- Selection.describe()
    parameters     JSON NOT NULL,         -- resolved TopicParams (after the corpus-size rule); fit_sample only when it bound
    versions       JSON NOT NULL,         -- bertopic, umap, hdbscan, sklearn, embedder, classifier
    content_hash   VARCHAR NOT NULL,      -- sha256 of the ordered (site, post_id, document) list
    sites          VARCHAR[] NOT NULL,    -- sites present in the documents
    n_docs         INTEGER NOT NULL,      -- questions in the selection, each with a question_topics row; min(n_docs, fit_sample) were fitted
    n_topics       INTEGER NOT NULL,      -- excluding the outlier topic -1
    n_outliers     INTEGER NOT NULL,      -- documents in the outlier topic -1
    coherence      DOUBLE,                -- mean NPMI of top-10 terms over the fitted documents (pipeline/topics/coherence.py)
    diversity      DOUBLE,                -- unique share of the top-10 terms of all topics
    fit_seconds    DOUBLE NOT NULL,       -- how long the fit took
    created        TIMESTAMP NOT NULL     -- when the model was fitted (local time)
);

CREATE TABLE IF NOT EXISTS topics (  -- one row per topic of a model: label, size and top c-TF-IDF terms
    topic_model_id VARCHAR NOT NULL,      -- the model (topic_models.topic_model_id)
    topic_id       INTEGER NOT NULL,      -- -1 = BERTopic's outliers
    label          VARCHAR NOT NULL,      -- id + top four terms, e.g. 3_kernel_jupyter_dies_memory
    size           INTEGER NOT NULL,      -- questions in the topic
    terms          VARCHAR[] NOT NULL,    -- top terms by c-TF-IDF, best first
    weights        DOUBLE[] NOT NULL,     -- their c-TF-IDF weights
    PRIMARY KEY (topic_model_id, topic_id)
);

CREATE TABLE IF NOT EXISTS question_topics (  -- which topic of a model each question of its selection
                                              -- belongs to
    topic_model_id VARCHAR NOT NULL,      -- the model (topic_models.topic_model_id)
    site           VARCHAR NOT NULL,      -- the Stack Exchange site, e.g. ai.stackexchange.com
    dump_id        VARCHAR NOT NULL,      -- the snapshot the row comes from (dumps.dump_id)
    post_id        BIGINT NOT NULL,       -- the question (posts.id)
    topic_id       INTEGER NOT NULL,      -- its topic (topics.topic_id); -1 = outlier
    probability    DOUBLE NOT NULL,       -- HDBSCAN membership strength (cosine to the nearest topic if assigned), or cosine to the centroid for k-means
    PRIMARY KEY (topic_model_id, site, post_id)
);

CREATE TABLE IF NOT EXISTS topics_over_time (  -- questions per topic per site per period
    topic_model_id VARCHAR NOT NULL,      -- the model (topic_models.topic_model_id)
    site           VARCHAR NOT NULL,      -- the Stack Exchange site, e.g. ai.stackexchange.com
    topic_id       INTEGER NOT NULL,      -- the topic (topics.topic_id)
    period         VARCHAR NOT NULL,      -- 'YYYY' or 'YYYY-Qn'
    n              INTEGER NOT NULL,      -- questions of the topic asked in the period on the site
    PRIMARY KEY (topic_model_id, site, topic_id, period)
);

-- Cache of document embeddings from per-document embedders (model2vec): a question whose text
-- did not change is never embedded twice. Keyed by content, not by post, so an edited question
-- gets a fresh vector and an unchanged one is reused across selections and runs.
CREATE TABLE IF NOT EXISTS embedding_cache (  -- document embeddings keyed by content, so an unchanged text
                                              -- is never embedded twice
    site      VARCHAR NOT NULL,           -- the Stack Exchange site, e.g. ai.stackexchange.com
    model     VARCHAR NOT NULL,           -- embedder name incl. weights hash
    text_hash VARCHAR NOT NULL,           -- sha256 of the embedded document text
    embedding FLOAT[] NOT NULL,           -- the document's vector
    PRIMARY KEY (site, model, text_hash)
);
