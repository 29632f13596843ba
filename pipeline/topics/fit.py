"""Topics of a selection of questions: BERTopic over title + prose + tags, offline and seeded.

Reads `question_text` + `question_labels` through a `Selection`; writes `topic_models`, `topics`,
`question_topics`, `topics_over_time` (pipeline/topics/sql/tables.sql) in one transaction. The model id
hashes (selection, resolved parameters, document content, versions): the same input finds its
id and is skipped, so a rerun leaves the database as it was.

Corpus-size rule (default): PCA to 5 dimensions, then k-means with k = round(sqrt(n / 2))
clamped to 1..50 (61 questions give 6 topics, 5,000 give 50); every question gets a topic, no
outliers, no numba compile, fully deterministic. UMAP + HDBSCAN is available (`--reducer umap
--clusterer hdbscan`; min_cluster_size = n // 500 clamped to 10..200, min_samples 5) but is not
the default, because it measured worse here: on tens of documents HDBSCAN calls most of them
outliers, and on the bench corpus (bench/topics.py) its coherence fell below LDA's while PCA +
k-means stayed above it (figures in the README, "Topics"). `--n-topics` and `--min-topic-size` override the rule; the
resolved values are stored in topic_models.parameters.

Fit sample (`--fit-sample N`, default 50,000; issue #14: memory must not grow with the selection).
A selection of at most N questions is fitted whole, exactly as before the cap existed (same
topics, rows and model id). A larger one is fitted on a seeded sample of N of its questions (those
with the smallest md5(seed/site/post_id): deterministic, independent of row order, and a question
that stays selected stays sampled when the selection grows by a few rows), and every other
question is then assigned a topic in batches of ASSIGN_BATCH read from DuckDB, so peak memory is
set by N and the batch, not by the selection. The corpus-size rule sizes the fit by the documents
it clusters, min(n, N): for the default N it picks k = 50 either way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from importlib.metadata import version
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.core.db import STREAM_SETTINGS, settings
from pipeline.core.errors import StackmineError
from pipeline.core.selection import Selection, selection_batches, selection_rows
from pipeline.core.sql import SqlFile
from pipeline.core.step import Scope
from pipeline.topics import DEFAULT_FIT_SAMPLE
from pipeline.topics.coherence import clean_text, corpus_vocabulary, diversity, make_vectorizer, npmi_coherence
from pipeline.topics.embeddings import EMBED_BATCH, Embedder, embed_cached, make_embedder

log = logging.getLogger(__name__)

MAX_TOPICS = 50
MIN_DOCS = 3
DOC_COLUMNS = "l.site, l.dump_id, l.post_id, t.creation_date, t.title, t.prose, t.tags, l.classifier_version"
SQL = SqlFile("pipeline.topics", "topics.sql")
# Documents read, embedded and assigned at a time above the cap: the embedding cache's own batch
# (pipeline/topics/embeddings.py), so one cache lookup serves one assignment batch.
ASSIGN_BATCH = EMBED_BATCH


@dataclass(frozen=True)
class TopicParams:
    """How to fit; `None`/"auto" fields are filled by `resolve` from the corpus size."""

    backend: str = "model2vec"
    seed: int = 42
    reducer: str = "auto"  # auto | pca | umap
    clusterer: str = "auto"  # auto | kmeans | hdbscan
    n_topics: int | None = None  # k for k-means
    min_topic_size: int | None = None  # HDBSCAN min_cluster_size
    top_n_words: int = 10
    period: str = "year"  # year | quarter, for topics_over_time
    fit_sample: int = DEFAULT_FIT_SAMPLE  # fit on at most this many documents, assign the rest

    def __post_init__(self) -> None:
        if self.fit_sample < MIN_DOCS:
            raise StackmineError(f"--fit-sample must be at least {MIN_DOCS} (got {self.fit_sample})")

    def capped(self, n_docs: int) -> bool:
        """True when a selection of `n_docs` documents is larger than the fit sample."""
        return n_docs > self.fit_sample

    def resolve(self, n_docs: int) -> TopicParams:
        """Concrete parameters for a selection of `n_docs` documents (the rule in the module doc),
        sized by the documents the fit clusters: min(n_docs, fit_sample)."""
        n_docs = min(n_docs, self.fit_sample)
        reducer = "pca" if self.reducer == "auto" else self.reducer
        clusterer = "kmeans" if self.clusterer == "auto" else self.clusterer
        n_topics = self.n_topics
        if clusterer == "kmeans" and n_topics is None:
            n_topics = int(min(MAX_TOPICS, max(1, round((n_docs / 2) ** 0.5))))
        min_size = self.min_topic_size
        if clusterer == "hdbscan" and min_size is None:
            min_size = int(min(200, max(10, n_docs // 500)))
        return replace(self, reducer=reducer, clusterer=clusterer, n_topics=n_topics, min_topic_size=min_size)

    def recorded(self, n_docs: int) -> dict:
        """The parameters a model of `n_docs` documents is identified and stored by.

        `fit_sample` is in them only when it bound (n_docs > fit_sample). Why: below the cap it
        changes nothing, so the model id and the stored row stay what they were before the cap
        existed, and a cap raised or lowered above a small selection does not refit it.
        """
        values = asdict(self)
        if not self.capped(n_docs):
            del values["fit_sample"]
        return values


@dataclass
class FittedTopics:
    """What a fit produced, before it is stored."""

    topics: np.ndarray  # topic id per document
    probabilities: np.ndarray
    terms: dict[int, list[tuple[str, float]]]
    labels: dict[int, str]
    coherence: float
    diversity: float
    seconds: float
    model: object  # the fitted BERTopic


@dataclass(frozen=True)
class TopicRun:
    """Outcome of `run_topics`, for the CLI to report."""

    topic_model_id: str
    n_docs: int
    n_topics: int
    skipped: bool
    coherence: float | None
    diversity: float | None
    # wall seconds of each phase of a fit: survey (hash the selection), sample (read and embed the
    # documents fitted), fit, store (assign the rest, write); for bench/topics.py and the log
    timings: dict[str, float] = field(default_factory=dict, compare=False)


def document(title: str, prose: str, tags: list[str] | np.ndarray) -> str:
    """The text a question contributes: title, prose, and its tags as words (hyphens split)."""
    tag_words = " ".join(str(t).replace("-", " ") for t in tags)
    return f"{title}\n{prose}\n{tag_words}".strip()


def load_documents(con: duckdb.DuckDBPyConnection, selection: Selection) -> pd.DataFrame:
    """The selected questions with their document text, in (site, post_id) order."""
    frame = selection_rows(con, selection, DOC_COLUMNS)
    return _with_docs(frame)


def load_fit_sample(con: duckdb.DuckDBPyConnection, selection: Selection, params: TopicParams) -> pd.DataFrame:
    """The seeded fitting sample of a selection above the cap: `params.fit_sample` of its questions
    (smallest md5(seed/site/post_id); topics.sql `fit_sample`), with their document text, in
    (site, post_id) order. DuckDB picks it as a top-N over keys only, then joins the texts, so a
    raised cap stays within its streaming buffer cap (150,000 of 200,000 read in 2.5 s)."""
    where, values = selection.sql()
    sql = SQL("fit_sample").format(columns=DOC_COLUMNS, where=where)
    return _with_docs(con.execute(sql, [*values, str(params.seed), params.fit_sample]).fetch_df())


def _with_docs(frame: pd.DataFrame) -> pd.DataFrame:
    frame["doc"] = [document(*row) for row in zip(frame["title"], frame["prose"], frame["tags"], strict=True)]
    return frame


def content_hash(frame: pd.DataFrame) -> str:
    """sha256 of the ordered (site, post_id, document) list: what the topics depend on."""
    digest = hashlib.sha256()
    _hash_rows(digest, frame["site"], frame["post_id"], frame["doc"])
    return digest.hexdigest()


def _hash_rows(digest, sites, post_ids, docs) -> None:
    for site, post_id, doc in zip(sites, post_ids, docs, strict=True):
        digest.update(f"{site}\t{post_id}\t{doc}\n".encode())


@dataclass(frozen=True)
class Survey:
    """What one streamed pass over a selection tells: enough to name its model without holding it."""

    n_docs: int
    content_hash: str  # the same bytes as `content_hash` of the whole frame
    sites: list[str]
    classifier_versions: list[str]


def survey(con: duckdb.DuckDBPyConnection, selection: Selection, batch_rows: int = ASSIGN_BATCH) -> Survey:
    """Count and hash the selection's documents, `batch_rows` at a time.

    Why a pass of its own: the model id (and so the skip of an unchanged selection) depends on every
    document, and must be known before anything is embedded or fitted; reading in batches keeps
    memory flat however large the selection.
    """
    digest = hashlib.sha256()
    n_docs = 0
    sites: set[str] = set()
    versions: set[str] = set()
    for batch in selection_batches(con, selection, DOC_COLUMNS, batch_rows):
        cols = batch.to_pydict()
        docs = [document(*row) for row in zip(cols["title"], cols["prose"], cols["tags"], strict=True)]
        _hash_rows(digest, cols["site"], cols["post_id"], docs)
        n_docs += batch.num_rows
        sites.update(cols["site"])
        versions.update(cols["classifier_version"])
    return Survey(n_docs, digest.hexdigest(), sorted(sites), sorted(versions))


def versions_of(embedder_name: str, classifier_versions: list[str]) -> dict[str, object]:
    """Library and model versions that change topics when they change."""
    libs = ("bertopic", "umap-learn", "hdbscan", "scikit-learn", "numpy", "model2vec")
    found: dict[str, object] = {lib: version(lib) for lib in libs}
    found["embedder"] = embedder_name
    found["classifier_versions"] = sorted(set(classifier_versions))
    return found


def make_topic_model_id(selection: Selection, parameters: dict, content: str, versions: dict) -> str:
    """Deterministic id: same selection, parameters (`TopicParams.recorded`), documents and versions → same id."""
    key = json.dumps(
        {"selection": json.loads(selection.describe()), "params": parameters, "content": content, "versions": versions},
        sort_keys=True,
    )
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def build_bertopic(params: TopicParams, n_docs: int, vocabulary: list[str] | None = None):
    """A BERTopic whose every random part is seeded; `params` must be resolved."""
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer

    if params.reducer == "umap":
        from umap import UMAP

        reducer = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=params.seed)
    else:
        from sklearn.decomposition import PCA

        reducer = PCA(n_components=max(1, min(5, n_docs - 1)), svd_solver="full", random_state=params.seed)
    if params.clusterer == "hdbscan":
        from hdbscan import HDBSCAN

        cluster = HDBSCAN(min_cluster_size=params.min_topic_size, min_samples=5, prediction_data=False)
    else:
        from sklearn.cluster import KMeans

        cluster = KMeans(n_clusters=min(params.n_topics or 1, n_docs), n_init=10, random_state=params.seed)
    return BERTopic(
        umap_model=reducer,
        hdbscan_model=cluster,
        vectorizer_model=make_vectorizer(n_docs, vocabulary),
        ctfidf_model=ClassTfidfTransformer(),
        top_n_words=params.top_n_words,
        calculate_probabilities=False,
        verbose=False,
    )


def fit_topics(docs: list[str], embeddings: np.ndarray, params: TopicParams) -> FittedTopics:
    """Fit BERTopic on precomputed embeddings and score it (coherence, diversity)."""
    start = time.perf_counter()
    docs = [clean_text(d) for d in docs]
    model = build_bertopic(params, len(docs), corpus_vocabulary(docs))
    topics, probs = model.fit_transform(docs, embeddings=embeddings)
    topics = np.asarray(topics)
    if probs is None or params.clusterer == "kmeans":
        probs = _centroid_similarity(embeddings, topics, model)
    terms = {t: [(w, float(s)) for w, s in (model.get_topic(t) or []) if w] for t in sorted(set(topics.tolist()))}
    labels = {t: f"{t}_" + "_".join(w for w, _ in terms[t][:4]) for t in terms}
    real = [[w for w, _ in terms[t]] for t in terms if t != -1]
    analyzer = model.vectorizer_model.build_analyzer()
    coherence, _ = npmi_coherence(real, docs, analyzer, top_n=params.top_n_words)
    seconds = time.perf_counter() - start
    return FittedTopics(topics, np.asarray(probs, dtype=float), terms, labels, coherence, diversity(real), seconds, model)


def _centroid_similarity(embeddings: np.ndarray, topics: np.ndarray, model) -> np.ndarray:
    """Cosine of each document to its topic's embedding, clipped to [0, 1] (k-means has no probabilities)."""
    vectors = np.asarray(model.topic_embeddings_, dtype=np.float64)
    offset = 1 if -1 in model.topic_sizes_ else 0
    mine = vectors[topics + offset]
    emb = embeddings.astype(np.float64)
    num = np.einsum("ij,ij->i", emb, mine)
    den = np.linalg.norm(emb, axis=1) * np.linalg.norm(mine, axis=1)
    return np.clip(num / np.where(den == 0, 1, den), 0.0, 1.0).round(6)


def assign_topics(model, docs: list[str], embeddings: np.ndarray, params: TopicParams) -> tuple[np.ndarray, np.ndarray]:
    """Topics and probabilities of documents outside the fitting sample (`params` resolved).

    k-means: BERTopic's own `transform` (the fitted reducer, then the nearest k-means centre), the
    rule that gave the fitted documents their topics, so a document gets the topic it would have
    got had it been sampled; probability as for fitted documents (`_centroid_similarity`).
    Measured on the bench corpus (20,000 documents, fit on 5,000): transform gives every fitted
    document its fitted topic and agrees with a fit on all 20,000 as well as the sample's own fit
    does (adjusted Rand 0.431 on the rest, 0.431 on the sample), where the nearest topic embedding
    by cosine re-gave 82.8% of fitted documents their topic and reached 0.356; both took under
    0.2 s per 20,000. HDBSCAN (fitted without prediction data, which `transform` would need):
    the nearest topic embedding by cosine, BERTopic's own rule for clusterers without `predict`;
    no document is assigned to the outliers, and the cosine is its probability. Each document's
    result depends on that document only, so it is the same whatever the batch.
    """
    if params.clusterer == "kmeans":
        topics = np.asarray(model.transform(docs, embeddings=embeddings)[0])
        return topics, _centroid_similarity(embeddings, topics, model)
    vectors = np.asarray(model.topic_embeddings_, dtype=np.float64)[1 if -1 in model.topic_sizes_ else 0:]
    emb = embeddings.astype(np.float64)
    # einsum, not a matrix product: its sums do not depend on how many rows the batch has
    sims = np.einsum("ij,kj->ik", emb, vectors)
    den = np.outer(np.linalg.norm(emb, axis=1), np.linalg.norm(vectors, axis=1))
    sims = sims / np.where(den == 0, 1, den)
    return sims.argmax(axis=1), np.clip(sims.max(axis=1), 0.0, 1.0).round(6)


def assigned_batches(con: duckdb.DuckDBPyConnection, selection: Selection, topic_model_id: str, fitted_keys: set,
                     fitted: FittedTopics, params: TopicParams, embedder: Embedder,
                     batch_rows: int) -> Iterator[pa.Table]:
    """question_topics rows of every selected question outside the fitting sample, a batch at a time.

    Documents are read `batch_rows` at a time from a cursor of their own, their embeddings looked
    up (or computed and cached) on another cursor, which commits each batch: `con` holds the
    model's write transaction meanwhile, and DuckDB would keep every registered batch of the
    cache lookup alive inside it until COMMIT (see pipeline/core/db.py replace_scope).
    """
    cache = con.cursor()
    try:
        for batch in selection_batches(con, selection, DOC_COLUMNS, batch_rows):
            cols = batch.to_pydict()
            rest = [i for i, key in enumerate(zip(cols["site"], cols["post_id"], strict=True)) if key not in fitted_keys]
            if not rest:
                continue
            sites = [cols["site"][i] for i in rest]
            docs = [document(cols["title"][i], cols["prose"][i], cols["tags"][i]) for i in rest]
            embeddings = embed_cached(cache, sites, docs, embedder)
            topics, probabilities = assign_topics(fitted.model, docs, embeddings, params)
            yield pa.table({
                "topic_model_id": [topic_model_id] * len(rest),
                "site": sites,
                "dump_id": [cols["dump_id"][i] for i in rest],
                "post_id": pa.array([cols["post_id"][i] for i in rest], pa.int64()),
                "topic_id": pa.array(topics.astype("int32")),
                "probability": pa.array(probabilities.astype(float).round(6)),
            })
    finally:
        cache.close()


def run_topics(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    params: TopicParams,
    embedder: Embedder | None = None,
    force: bool = False,
    progress: bool = False,
    save_to: Path | None = None,
    batch_rows: int | None = None,
) -> TopicRun:
    """Fit (or find) the topic model of `selection` and store it, replacing the selection's old one.

    `save_to`: also save the fitted BERTopic there (`save_model`); only happens when it is fitted.
    `batch_rows`: documents read (hashed, assigned) at a time, ASSIGN_BATCH by default; the
    results do not depend on it. DuckDB runs under STREAM_SETTINGS' buffer cap meanwhile, so
    what it reads and writes is evicted or spilled rather than cached whole.
    """
    with settings(con, STREAM_SETTINGS):
        return _run_topics(con, selection, params, embedder, force, progress, save_to, batch_rows or ASSIGN_BATCH)


def _run_topics(con: duckdb.DuckDBPyConnection, selection: Selection, params: TopicParams, embedder: Embedder | None,
                force: bool, progress: bool, save_to: Path | None, batch_rows: int) -> TopicRun:
    from tqdm import tqdm

    from pipeline.topics import store as topic_store

    steps = tqdm(total=4, desc="topics", unit="step", disable=not progress)
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    found = survey(con, selection, batch_rows)
    lap("survey")
    if found.n_docs < MIN_DOCS:
        raise StackmineError(
            f"the selection has {found.n_docs} questions; topics need at least {MIN_DOCS}. "
            f"Selection: {selection.describe()}. Widen it (e.g. --site, --all-questions) or run classify first."
        )
    capped = params.capped(found.n_docs)
    resolved = params.resolve(found.n_docs)
    parameters = resolved.recorded(found.n_docs)
    embedder = embedder or make_embedder(params.backend, params.seed)
    if capped and not embedder.per_document:
        raise StackmineError(
            f"the selection has {found.n_docs:,} questions, more than --fit-sample {params.fit_sample:,}, and the "
            f"{embedder.name} embeddings depend on the whole corpus, so the rest cannot be assigned to the sample's "
            f"topics. Use the default backend, or --fit-sample {found.n_docs} or more."
        )
    versions = versions_of(embedder.name, found.classifier_versions)
    model_id = make_topic_model_id(selection, parameters, found.content_hash, versions)
    steps.update(1)
    existing = topic_store.find_model(con, model_id)
    if existing and not force and save_to is None:
        steps.close()
        log.info("topic model %s is up to date; skipped", model_id)
        return TopicRun(model_id, found.n_docs, existing["n_topics"], True, existing["coherence"], existing["diversity"])
    frame = load_fit_sample(con, selection, params) if capped else load_documents(con, selection)
    embeddings = embed_cached(con, frame["site"].tolist(), frame["doc"].tolist(), embedder)
    lap("sample")
    steps.update(1)
    fitted = fit_topics(frame["doc"].tolist(), embeddings, resolved)
    del embeddings
    lap("fit")
    steps.update(1)
    record = topic_store.ModelRecord(model_id, selection, resolved, parameters, versions, found.content_hash,
                                     found.n_docs, found.sites)
    assigned: Iterator[pa.Table] | tuple = ()
    if capped:
        fitted_keys = set(zip(frame["site"].tolist(), frame["post_id"].tolist(), strict=True))
        assigned = assigned_batches(con, selection, model_id, fitted_keys, fitted, resolved, embedder, batch_rows)
        log.info("topics: fitted on %d of %d questions, assigning the rest in batches of %d",
                 len(frame), found.n_docs, batch_rows)
    keys = frame[["site", "dump_id", "post_id"]]
    del frame  # the fitted documents' text is not needed while the rest is assigned
    topic_store.write(con, record, keys, fitted, assigned)
    lap("store")
    log.info("topics: %s seconds", timings)
    if save_to is not None:
        save_model(fitted.model, save_to)
    steps.update(1)
    steps.close()
    n_topics = len([t for t in fitted.terms if t != -1])
    return TopicRun(model_id, found.n_docs, n_topics, False, fitted.coherence, fitted.diversity, timings)


def run(con: duckdb.DuckDBPyConnection, scope: Scope, selection: Selection, params: TopicParams | None = None,
        refit: bool = False, progress: bool = False, save_to: Path | None = None) -> TopicRun:
    """The topics step for a selection (`run_topics` with the default parameters unless given)."""
    return run_topics(con, selection, params or TopicParams(), force=refit, progress=progress, save_to=save_to)


def save_model(model, path: Path) -> None:
    """Save a fitted BERTopic as safetensors without an embedding-model pointer.

    Why no pointer: BERTopic.load builds a SentenceTransformer from a stored pointer before it
    looks at the `embedding_model` argument (BERTopic issue 2493), which contacts the hub.
    """
    model.save(str(path), serialization="safetensors", save_ctfidf=True, save_embedding_model=False)


def load_model(path: Path, embedder: Embedder | None = None):
    """Load a model saved by `save_model`, with the shipped static model attached; never online."""
    from bertopic import BERTopic

    config = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
    if "embedding_model" in config:
        raise StackmineError(
            f"{path}/config.json names an embedding model ({config['embedding_model']!r}); loading it "
            "would contact the hub. Re-save the model with pipeline.topics.fit.save_model."
        )
    backend = None
    if embedder is not None and hasattr(embedder, "model"):
        backend = embedder.model
    return BERTopic.load(str(path), embedding_model=backend)
