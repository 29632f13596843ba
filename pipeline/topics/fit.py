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
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, replace
from importlib.metadata import version
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.topics.embeddings import Embedder, embed_cached, make_embedder
from pipeline.core.errors import StackmineError
from pipeline.topics.coherence import clean_text, corpus_vocabulary, diversity, make_vectorizer, npmi_coherence
from pipeline.core.selection import Selection, selection_rows
from pipeline.core.step import Scope

log = logging.getLogger(__name__)

MAX_TOPICS = 50
MIN_DOCS = 3
DOC_COLUMNS = "l.site, l.dump_id, l.post_id, t.creation_date, t.title, t.prose, t.tags, l.classifier_version"


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

    def resolve(self, n_docs: int) -> TopicParams:
        """Concrete parameters for a corpus of `n_docs` documents (the rule in the module doc)."""
        reducer = "pca" if self.reducer == "auto" else self.reducer
        clusterer = "kmeans" if self.clusterer == "auto" else self.clusterer
        n_topics = self.n_topics
        if clusterer == "kmeans" and n_topics is None:
            n_topics = int(min(MAX_TOPICS, max(1, round((n_docs / 2) ** 0.5))))
        min_size = self.min_topic_size
        if clusterer == "hdbscan" and min_size is None:
            min_size = int(min(200, max(10, n_docs // 500)))
        return replace(self, reducer=reducer, clusterer=clusterer, n_topics=n_topics, min_topic_size=min_size)


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


def document(title: str, prose: str, tags: list[str] | np.ndarray) -> str:
    """The text a question contributes: title, prose, and its tags as words (hyphens split)."""
    tag_words = " ".join(str(t).replace("-", " ") for t in tags)
    return f"{title}\n{prose}\n{tag_words}".strip()


def load_documents(con: duckdb.DuckDBPyConnection, selection: Selection) -> pd.DataFrame:
    """The selected questions with their document text, in (site, post_id) order."""
    frame = selection_rows(con, selection, DOC_COLUMNS)
    frame["doc"] = [document(*row) for row in zip(frame["title"], frame["prose"], frame["tags"], strict=True)]
    return frame


def content_hash(frame: pd.DataFrame) -> str:
    """sha256 of the ordered (site, post_id, document) list: what the topics depend on."""
    digest = hashlib.sha256()
    for site, post_id, doc in zip(frame["site"], frame["post_id"], frame["doc"], strict=True):
        digest.update(f"{site}\t{post_id}\t{doc}\n".encode())
    return digest.hexdigest()


def versions_of(embedder_name: str, classifier_versions: list[str]) -> dict[str, object]:
    """Library and model versions that change topics when they change."""
    libs = ("bertopic", "umap-learn", "hdbscan", "scikit-learn", "numpy", "model2vec")
    found: dict[str, object] = {lib: version(lib) for lib in libs}
    found["embedder"] = embedder_name
    found["classifier_versions"] = sorted(set(classifier_versions))
    return found


def make_topic_model_id(selection: Selection, params: TopicParams, content: str, versions: dict) -> str:
    """Deterministic id: same selection, parameters, documents and versions → same id."""
    key = json.dumps(
        {"selection": json.loads(selection.describe()), "params": asdict(params), "content": content, "versions": versions},
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


def run_topics(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    params: TopicParams,
    embedder: Embedder | None = None,
    force: bool = False,
    progress: bool = False,
    save_to: Path | None = None,
) -> TopicRun:
    """Fit (or find) the topic model of `selection` and store it, replacing the selection's old one.

    `save_to`: also save the fitted BERTopic there (`save_model`); only happens when it is fitted.
    """
    from tqdm import tqdm

    from pipeline.topics import store as topic_store

    steps = tqdm(total=4, desc="topics", unit="step", disable=not progress)
    frame = load_documents(con, selection)
    if len(frame) < MIN_DOCS:
        raise StackmineError(
            f"the selection has {len(frame)} questions; topics need at least {MIN_DOCS}. "
            f"Selection: {selection.describe()}. Widen it (e.g. --site, --all-questions) or run classify first."
        )
    resolved = params.resolve(len(frame))
    embedder = embedder or make_embedder(params.backend, params.seed)
    versions = versions_of(embedder.name, frame["classifier_version"].tolist())
    model_id = make_topic_model_id(selection, resolved, content_hash(frame), versions)
    steps.update(1)
    existing = topic_store.find_model(con, model_id)
    if existing and not force and save_to is None:
        steps.close()
        log.info("topic model %s is up to date; skipped", model_id)
        return TopicRun(model_id, len(frame), existing["n_topics"], True, existing["coherence"], existing["diversity"])
    embeddings = embed_cached(con, frame["site"].tolist(), frame["doc"].tolist(), embedder)
    steps.update(1)
    fitted = fit_topics(frame["doc"].tolist(), embeddings, resolved)
    steps.update(1)
    record = topic_store.ModelRecord(model_id, selection, resolved, versions, content_hash(frame))
    topic_store.write(con, record, frame, fitted)
    if save_to is not None:
        save_model(fitted.model, save_to)
    steps.update(1)
    steps.close()
    n_topics = len([t for t in fitted.terms if t != -1])
    return TopicRun(model_id, len(frame), n_topics, False, fitted.coherence, fitted.diversity)


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
