"""Document embeddings for topic modelling, fully offline.

Two backends: the static model2vec model shipped in `pipeline/topics/models/` (distilled once from
all-MiniLM-L6-v2 by scripts/distill_embeddings.py; thousands of docs/s, numpy only), and a
TF-IDF + TruncatedSVD pipeline (weaker topics, no model file) for fast tests. Per-document
embeddings are cached in DuckDB's `embedding_cache` by content hash, so a question is embedded once.
"""

from __future__ import annotations

import hashlib
import logging
from importlib import resources
from pathlib import Path
from typing import Protocol

import duckdb
import numpy as np
import pandas as pd

from pipeline.core.db import registered
from pipeline.core.errors import StackmineError
from pipeline.core.sql import SqlFile

log = logging.getLogger(__name__)

MODEL_NAME = "minilm-l6-static-256"
BACKENDS = ("model2vec", "tfidf")

SQL = SqlFile("pipeline.topics", "topics.sql")
# Documents embedded (and stored in the cache) at a time: the embedder's own working memory
# (token ids, padded batches) stays bounded whatever the selection's size. A document's vector
# does not depend on its batch (per_document embedders), so the vectors are the same.
EMBED_BATCH = 10_000


class Embedder(Protocol):
    """What topics.py needs from an embedding backend."""

    name: str
    per_document: bool  # True: a document's vector does not depend on the rest of the corpus

    def embed(self, docs: list[str]) -> np.ndarray: ...


def model_dir() -> Path:
    """Path of the shipped static model inside the installed package."""
    return Path(str(resources.files("pipeline.topics") / "models" / MODEL_NAME))


def text_hash(text: str) -> str:
    """Content key of one document (what the cache is keyed by)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Model2VecEmbedder:
    """The shipped static model; loaded from the package path, so no hub is ever asked."""

    per_document = True

    def __init__(self, path: Path | None = None) -> None:
        from model2vec import StaticModel

        path = path or model_dir()
        weights = path / "model.safetensors"
        if not weights.is_file():
            raise StackmineError(
                f"{weights}: embedding model missing. Reinstall stackmine (the model ships in "
                "pipeline/topics/models/), or rebuild it with scripts/distill_embeddings.py."
            )
        self.model = StaticModel.from_pretrained(str(path))
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
        self.name = f"model2vec:{path.name}:{digest}"

    def embed(self, docs: list[str]) -> np.ndarray:
        """Unit-length float32 vectors (the model normalises; cast because it stores float16)."""
        return np.asarray(self.model.encode(docs, show_progress_bar=False), dtype=np.float32)


class TfidfSvdEmbedder:
    """TF-IDF + truncated SVD fitted on the corpus itself: seeded, fast, no model file."""

    per_document = False

    def __init__(self, dims: int = 64, seed: int = 42) -> None:
        self.dims = dims
        self.seed = seed
        self.name = f"tfidf-svd:{dims}:{seed}"

    def embed(self, docs: list[str]) -> np.ndarray:
        """Fit on `docs` and return their L2-normalised SVD coordinates."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        tfidf = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=1).fit_transform(docs)
        dims = max(1, min(self.dims, tfidf.shape[0] - 1, tfidf.shape[1] - 1))
        vectors = TruncatedSVD(n_components=dims, random_state=self.seed).fit_transform(tfidf)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


def make_embedder(backend: str, seed: int = 42) -> Embedder:
    """The embedder named `backend` ('model2vec' or 'tfidf')."""
    if backend == "model2vec":
        return Model2VecEmbedder()
    if backend == "tfidf":
        return TfidfSvdEmbedder(seed=seed)
    raise StackmineError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def embed_cached(con: duckdb.DuckDBPyConnection, sites: list[str], docs: list[str], embedder: Embedder) -> np.ndarray:
    """Embeddings of `docs`, reusing `embedding_cache` rows and storing the missing ones.

    Corpus-dependent embedders (TF-IDF) are recomputed: their vectors change with the corpus.
    """
    if not embedder.per_document:
        return embedder.embed(docs)
    frame = pd.DataFrame({"site": sites, "text_hash": [text_hash(d) for d in docs]})
    frame["i"] = np.arange(len(frame))
    with registered(con, wanted_embeddings=frame):
        found = con.sql(SQL("cached_embeddings"), params=[embedder.name]).to_arrow_table()
    out: np.ndarray | None = None
    have = found.column("i").to_numpy() if found.num_rows else np.array([], dtype=np.int64)
    if found.num_rows:
        flat = found.column("embedding").combine_chunks().flatten().to_numpy()
        out_dim = flat.size // found.num_rows
        out = np.zeros((len(docs), out_dim), dtype=np.float32)
        out[have] = flat.reshape(found.num_rows, out_dim)
    missing = np.setdiff1d(np.arange(len(docs)), have)
    log.info("embeddings: %d cached, %d to compute with %s", len(have), len(missing), embedder.name)
    for first in range(0, len(missing), EMBED_BATCH):
        part = missing[first:first + EMBED_BATCH]
        fresh = embedder.embed([docs[i] for i in part])
        if out is None:
            out = np.zeros((len(docs), fresh.shape[1]), dtype=np.float32)
        out[part] = fresh
        _store(con, frame.iloc[part], fresh, embedder.name)
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def _store(con: duckdb.DuckDBPyConnection, keys: pd.DataFrame, vectors: np.ndarray, model: str) -> None:
    """Append new cache rows; duplicates (same text twice in one site) are stored once."""
    import pyarrow as pa

    table = pa.table(
        {
            "site": keys["site"].to_numpy(),
            "model": [model] * len(keys),
            "text_hash": keys["text_hash"].to_numpy(),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel(), pa.float32()), vectors.shape[1]),
        }
    )
    with registered(con, new_embeddings=table):
        con.execute(SQL("store_embeddings"))
