"""Topic quality: NPMI coherence over the corpus and topic diversity (no gensim needed).

Both BERTopic and the LDA baseline (bench/topics.py) are scored by these same functions on the
same tokenisation (`make_vectorizer`), so their numbers can be compared within one run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from importlib import resources

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

STOPWORDS_FILE = "topic_stopwords.v1.txt"
TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b"
NOT_ALNUM = re.compile(r"[^A-Za-z0-9 ]+")


def clean_text(doc: str) -> str:
    """Letters, digits and spaces only, punctuation turned into spaces ("scikit-learn" → "scikit learn").

    Why: BERTopic deletes non-alphanumerics before c-TF-IDF ("scikitlearn"); cleaning first makes
    its step a no-op, so the vocabulary, the topic terms and the coherence counts see the same words.
    """
    return NOT_ALNUM.sub(" ", doc)


def stopwords() -> list[str]:
    """scikit-learn's English list plus our reviewed Stack Exchange filler words."""
    text = (resources.files("pipeline.topics") / "rules" / STOPWORDS_FILE).read_text(encoding="utf-8")
    extra = {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}
    return sorted(ENGLISH_STOP_WORDS | extra)


def min_df_for(n_docs: int) -> int:
    """Rare-word cut-off by corpus size: keep everything in tiny corpora, drop hapaxes otherwise."""
    if n_docs < 20:
        return 1
    return 2 if n_docs < 2000 else 5


def make_vectorizer(n_docs: int, vocabulary: list[str] | None = None) -> CountVectorizer:
    """The unigram tokenisation shared by topic terms, coherence and the LDA baseline.

    With `vocabulary`, a vectorizer restricted to it: BERTopic fits its vectorizer on one
    concatenated document per topic, where document-frequency cut-offs mean nothing, so the
    vocabulary is chosen on the corpus first (`corpus_vocabulary`) and then fixed.
    """
    return CountVectorizer(
        stop_words=stopwords(),
        token_pattern=TOKEN_PATTERN,
        lowercase=True,
        min_df=1 if vocabulary is not None else min_df_for(n_docs),
        max_df=1.0 if vocabulary is not None or n_docs < 20 else 0.9,
        vocabulary=vocabulary,
    )


def corpus_vocabulary(docs: Sequence[str]) -> list[str]:
    """Words kept by the corpus-size cut-offs (`min_df_for`, max_df 0.9), sorted."""
    vectorizer = make_vectorizer(len(docs)).fit(docs)
    return sorted(vectorizer.vocabulary_)


def npmi_coherence(
    topic_terms: Sequence[Sequence[str]], docs: Sequence[str], analyzer: Callable[[str], list[str]], top_n: int = 10
) -> tuple[float, list[float]]:
    """Mean NPMI of each topic's top-`top_n` term pairs, by document co-occurrence in `docs`.

    NPMI(a, b) = log(p(a,b) / (p(a) p(b))) / -log p(a,b), in [-1, 1]; a pair that never co-occurs
    scores -1 (Bouma 2009; the C_NPMI measure of Röder et al. 2015 with a whole-document window).
    Returns (mean over topics, per-topic values).
    """
    tops = [list(terms)[:top_n] for terms in topic_terms if len(terms) >= 2]
    if not tops:
        return float("nan"), []
    vocab = sorted({term for terms in tops for term in terms})
    index = {term: i for i, term in enumerate(vocab)}
    counter = CountVectorizer(vocabulary=vocab, analyzer=analyzer, binary=True)
    presence = counter.fit_transform(docs).astype(np.float64)
    n = presence.shape[0]
    p_single = np.asarray(presence.sum(axis=0)).ravel() / n
    p_joint = (presence.T @ presence).toarray() / n
    per_topic = [_topic_npmi([index[t] for t in terms], p_single, p_joint) for terms in tops]
    return float(np.mean(per_topic)), per_topic


def _topic_npmi(ids: list[int], p_single: np.ndarray, p_joint: np.ndarray) -> float:
    scores = []
    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            i, j = ids[a], ids[b]
            joint = p_joint[i, j]
            if joint <= 0 or p_single[i] <= 0 or p_single[j] <= 0:
                scores.append(-1.0)
            elif joint >= 1.0:
                scores.append(1.0)
            else:
                scores.append(math.log(joint / (p_single[i] * p_single[j])) / -math.log(joint))
    return float(np.mean(scores))


def diversity(topic_terms: Sequence[Sequence[str]], top_n: int = 10) -> float:
    """Share of unique words among all topics' top-`top_n` terms (Dieng et al. 2020); 1 = no overlap."""
    tops = [list(terms)[:top_n] for terms in topic_terms if terms]
    total = sum(len(terms) for terms in tops)
    return len({t for terms in tops for t in terms}) / total if total else float("nan")
