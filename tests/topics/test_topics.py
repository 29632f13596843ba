"""Topics on the bundled sample (real SEDE + ai.stackexchange questions, real text + classify).

Runs the real BERTopic with the shipped model2vec embeddings; the default selection (notebook ML
questions, 67 in the sample) is small, so the corpus-size rule picks PCA + k-means: no UMAP
compile here. The UMAP path is exercised once, in tests/topics/test_shared_dumps.py.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

from pipeline.core.errors import StackmineError
from pipeline.core.selection import Selection
from pipeline.steps import connect

# pipeline.topics loads scikit-learn, BERTopic and model2vec: each test imports what it uses, so
# collecting the suite does not.

TABLES = {
    "topic_models": "SELECT * EXCLUDE (created, fit_seconds) FROM topic_models ORDER BY ALL",
    "topics": "SELECT * FROM topics ORDER BY topic_model_id, topic_id",
    "question_topics": "SELECT * FROM question_topics ORDER BY ALL",
    "topics_over_time": "SELECT * FROM topics_over_time ORDER BY ALL",
}


@pytest.fixture(scope="session")
def topics_db(study_db_path: Path) -> Path:
    """The classified sample with the default topic model fitted (conftest's study_db_path runs
    pipeline.topics.run_topics(Selection(), TopicParams()) then stages); read it only."""
    return study_db_path


def snapshot(path: Path) -> dict[str, list[tuple]]:
    con = connect(path, read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}
    finally:
        con.close()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test (and the hub is told to stay offline)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[1:] if len(args) > 1 else args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_default_selection_topics(topics_db: Path) -> None:
    con = connect(topics_db, read_only=True)
    try:
        expected_docs = con.execute("SELECT count(*) FROM question_labels WHERE notebook AND ml").fetchall()[0][0]
        n_docs, n_topics, n_outliers, sites, params = con.execute(
            "SELECT n_docs, n_topics, n_outliers, sites, parameters FROM topic_models"
        ).fetchall()[0]
        sizes = con.execute("SELECT topic_id, size FROM topics ORDER BY topic_id").fetchall()
        per_question = con.execute("SELECT count(*), count(DISTINCT (site, post_id)) FROM question_topics").fetchall()[0]
        over_time = con.execute("SELECT sum(n) FROM topics_over_time").fetchall()[0][0]
        missing_dump = con.execute("SELECT count(*) FROM question_topics WHERE dump_id IS NULL OR site IS NULL").fetchall()[0][0]
    finally:
        con.close()
    assert n_docs == expected_docs == 67
    # the rule: < 1000 documents → PCA + k-means with k = round(sqrt(67 / 2)) = 6, no outliers
    params = json.loads(params)
    assert (params["reducer"], params["clusterer"], params["n_topics"]) == ("pca", "kmeans", 6)
    assert (n_topics, n_outliers, sites) == (6, 0, ["stackoverflow.com"])
    assert [t for t, _ in sizes] == [0, 1, 2, 3, 4, 5]
    assert sum(s for _, s in sizes) == 67
    assert per_question == (67, 67)
    assert over_time == 67
    assert missing_dump == 0


def test_topics_twice_gives_identical_tables(topics_db: Path, tmp_path: Path) -> None:
    from pipeline.topics.fit import TopicParams, run_topics

    again = tmp_path / "again.duckdb"
    shutil.copyfile(topics_db, again)
    before = snapshot(again)
    con = connect(again)
    try:
        skipped = run_topics(con, Selection(), TopicParams())
        assert skipped.skipped
        assert snapshot_con(con) == before  # skipped: nothing changed
        refit = run_topics(con, Selection(), TopicParams(), force=True)
        assert not refit.skipped and refit.topic_model_id == skipped.topic_model_id
    finally:
        con.close()
    assert snapshot(again) == before  # refitted from scratch: the very same rows


def snapshot_con(con) -> dict[str, list[tuple]]:
    return {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}


def test_new_selection_keeps_other_models_and_small_corpora_work(topics_db: Path, tmp_path: Path) -> None:
    from pipeline.topics.fit import TopicParams, run_topics

    path = tmp_path / "small.duckdb"
    shutil.copyfile(topics_db, path)
    con = connect(path)
    try:
        ids = [r[0] for r in con.execute(
            "SELECT post_id FROM question_labels WHERE site = 'stackoverflow.com' AND ml ORDER BY post_id LIMIT 12").fetchall()]
        small = Selection(notebook=None, where=f"l.post_id IN ({', '.join(map(str, ids))})")
        run = run_topics(con, small, TopicParams(backend="tfidf"))
        models = con.execute("SELECT count(*) FROM topic_models").fetchall()[0][0]
        members = con.execute("SELECT post_id FROM question_topics WHERE topic_model_id = ? ORDER BY post_id",
                              [run.topic_model_id]).fetchall()
        with pytest.raises(StackmineError, match="the selection has 2 questions"):
            run_topics(con, Selection(notebook=None, where=f"l.post_id IN ({ids[0]}, {ids[1]})"), TopicParams())
    finally:
        con.close()
    assert (run.n_docs, run.n_topics) == (12, 2)  # k = round(sqrt(12 / 2)) = 2
    assert [m[0] for m in members] == ids
    assert models == 2


def counting_embedder():
    """The real model, counting (in `.embedded`) how many documents it was asked to embed."""
    from pipeline.topics.embeddings import Model2VecEmbedder

    class CountingEmbedder(Model2VecEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.embedded = 0

        def embed(self, docs: list[str]) -> np.ndarray:
            self.embedded += len(docs)
            return super().embed(docs)

    return CountingEmbedder()


def test_embeddings_cached_by_content(tmp_path: Path) -> None:
    from pipeline.topics.embeddings import embed_cached

    con = connect(tmp_path / "cache.duckdb")
    embedder = counting_embedder()
    docs = ["jupyter kernel dies while training", "colab runtime disconnected", "jupyter kernel dies while training"]
    first = embed_cached(con, ["a.com"] * 3, docs, embedder)
    assert embedder.embedded == 3
    second = embed_cached(con, ["a.com"] * 4, docs + ["a new question"], embedder)
    assert embedder.embedded == 4  # only the new text
    assert np.array_equal(first, second[:3])
    assert con.execute("SELECT count(*) FROM embedding_cache").fetchall()[0][0] == 3  # duplicate text stored once, + new
    con.close()


def test_embeddings_in_small_batches_are_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: documents are embedded and cached EMBED_BATCH at a time; the vectors and the cache
    are the same whatever the batch size."""
    from pipeline.topics import embeddings

    docs = ["jupyter kernel dies while training", "colab runtime disconnected", "jupyter kernel dies while training",
            "a new question", "sagemaker endpoint times out"]
    got = {}
    for size in (embeddings.EMBED_BATCH, 2):
        monkeypatch.setattr(embeddings, "EMBED_BATCH", size)
        con = connect(tmp_path / f"cache-{size}.duckdb")
        try:
            got[size] = (embeddings.embed_cached(con, ["a.com"] * 5, docs, counting_embedder()),
                         con.execute("SELECT * FROM embedding_cache ORDER BY ALL").fetchall())
        finally:
            con.close()
    assert np.array_equal(got[2][0], got[embeddings.EMBED_BATCH][0])
    assert got[2][1] == got[embeddings.EMBED_BATCH][1] and len(got[2][1]) == 4


def test_model_loads_and_saved_topics_reload_offline(topics_db: Path, tmp_path: Path, no_network: None) -> None:
    from pipeline.topics.embeddings import Model2VecEmbedder, model_dir
    from pipeline.topics.fit import TopicParams, load_model, run_topics

    embedder = Model2VecEmbedder(model_dir())
    vectors = embedder.embed(["my jupyter kernel died", "jupyter kernel crashed", "pandas merge two dataframes"])
    assert vectors.shape == (3, 256) and vectors.dtype == np.float32
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(topics_db, path)
    con = connect(path)
    try:
        run = run_topics(con, Selection(), TopicParams(), save_to=tmp_path / "model")
        stored = con.execute("SELECT topic_id, terms FROM topics WHERE topic_model_id = ? AND topic_id >= 0 ORDER BY 1",
                             [run.topic_model_id]).fetchall()
    finally:
        con.close()
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert "embedding_model" not in config and (tmp_path / "model" / "topic_embeddings.safetensors").is_file()
    loaded = load_model(tmp_path / "model", embedder)
    assert [[w for w, _ in loaded.get_topic(t)] for t, _ in stored] == [list(terms) for _, terms in stored]


def test_tfidf_backend_is_seeded() -> None:
    from pipeline.topics.embeddings import TfidfSvdEmbedder

    docs = ["train a keras model", "keras model overfits", "install jupyter kernel", "jupyter kernel not found"]
    assert np.array_equal(TfidfSvdEmbedder(dims=3).embed(docs), TfidfSvdEmbedder(dims=3).embed(docs))


def test_npmi_and_diversity_exact() -> None:
    from pipeline.topics.coherence import diversity, make_vectorizer, npmi_coherence

    docs = ["apple banana", "apple banana", "cherry grape", "apple cherry"]
    analyzer = make_vectorizer(len(docs)).build_analyzer()
    mean, per_topic = npmi_coherence([["apple", "banana"], ["banana", "grape"]], docs, analyzer)
    # p(apple)=3/4, p(banana)=1/2, p(apple,banana)=1/2: log(4/3) / -log(1/2); banana and grape never meet: -1
    assert per_topic[0] == pytest.approx(np.log(4 / 3) / np.log(2), abs=1e-12)
    assert per_topic[1] == -1.0
    assert mean == pytest.approx((np.log(4 / 3) / np.log(2) - 1) / 2, abs=1e-12)
    assert diversity([["a", "b"], ["b", "c"]]) == 0.75


# Issue 14: above --fit-sample the model is fitted on a seeded sample and every other question is
# assigned in batches. The sample's 757 ML questions (notebook or not) with a cap of 60 stand in for
# a selection far above the default cap.
ALL_ML = Selection(notebook=None)


def _capped_tables(db: Path, tmp_path: Path, name: str, params, batch_rows: int | None = None, selection=ALL_ML):
    from pipeline.topics.fit import run_topics

    path = tmp_path / f"{name}.duckdb"
    shutil.copyfile(db, path)
    con = connect(path)
    try:
        run = run_topics(con, selection, params, batch_rows=batch_rows)
        return run, snapshot_con(con)
    finally:
        con.close()


def test_capped_fit_gives_every_question_a_topic_and_the_sample_its_fitted_one(topics_db: Path, tmp_path: Path) -> None:
    import hashlib

    from pipeline.topics.embeddings import Model2VecEmbedder, embed_cached
    from pipeline.topics.fit import TopicParams, fit_topics, load_fit_sample

    params = TopicParams(fit_sample=60)
    run, tables = _capped_tables(topics_db, tmp_path, "capped", params, batch_rows=100)
    con = connect(tmp_path / "capped.duckdb", read_only=True)
    try:
        selected = con.execute("SELECT site, post_id FROM question_labels WHERE ml ORDER BY ALL").fetchall()
        stored = {(s, p): (t, pr) for _, s, _, p, t, pr in
                  con.execute("SELECT * FROM question_topics WHERE topic_model_id = ?", [run.topic_model_id]).fetchall()}
        n_docs, parameters = con.execute("SELECT n_docs, parameters FROM topic_models WHERE topic_model_id = ?",
                                         [run.topic_model_id]).fetchall()[0]
        sizes = dict(con.execute("SELECT topic_id, size FROM topics WHERE topic_model_id = ?", [run.topic_model_id]).fetchall())
        over_time = con.execute("SELECT sum(n) FROM topics_over_time WHERE topic_model_id = ?", [run.topic_model_id]).fetchall()[0][0]
        sample = load_fit_sample(con, ALL_ML, params)
    finally:
        con.close()
    assert run.n_docs == n_docs == len(selected) == 757
    assert sorted(stored) == selected  # every question once
    assert sum(sizes.values()) == over_time == 757
    assert sizes == {t: sum(1 for topic, _ in stored.values() if topic == t) for t in sizes}
    assert json.loads(parameters)["fit_sample"] == 60 and json.loads(parameters)["n_topics"] == 5  # round(sqrt(60 / 2))
    # the sample: the 60 questions of smallest md5("42/site/post_id"), in (site, post_id) order
    by_hash = sorted(selected, key=lambda k: (hashlib.md5(f"42/{k[0]}/{k[1]}".encode()).hexdigest(), k))[:60]
    assert list(zip(sample["site"], sample["post_id"], strict=True)) == sorted(by_hash)
    # ...gets exactly the topics (and probabilities) a fit on it alone gives
    scratch = connect(tmp_path / "scratch.duckdb")
    try:
        embeddings = embed_cached(scratch, sample["site"].tolist(), sample["doc"].tolist(), Model2VecEmbedder())
    finally:
        scratch.close()
    fitted = fit_topics(sample["doc"].tolist(), embeddings, params.resolve(757))
    got = [stored[key] for key in zip(sample["site"], sample["post_id"], strict=True)]
    assert [t for t, _ in got] == fitted.topics.tolist()
    assert [p for _, p in got] == fitted.probabilities.round(6).tolist()
    assert len(set(fitted.topics.tolist())) == run.n_topics == 5


@pytest.mark.slow  # several BERTopic fits of 757 documents
def test_capped_fit_is_the_same_twice_and_whatever_the_batch(topics_db: Path, tmp_path: Path) -> None:
    from pipeline.topics.fit import TopicParams

    for params in (TopicParams(fit_sample=60), TopicParams(fit_sample=60, reducer="pca", clusterer="hdbscan", min_topic_size=5)):
        first = _capped_tables(topics_db, tmp_path, "first", params, batch_rows=100)
        again = _capped_tables(topics_db, tmp_path, "again", params, batch_rows=100)
        small = _capped_tables(topics_db, tmp_path, "small", params, batch_rows=37)
        assert first[0].topic_model_id == again[0].topic_model_id == small[0].topic_model_id
        assert first[1] == again[1] == small[1]
        assert len(first[1]["question_topics"]) == 67 + 757  # the default model's rows + this one's


@pytest.mark.slow  # several BERTopic fits of 757 documents
def test_cap_at_or_above_the_selection_changes_nothing(topics_db: Path, tmp_path: Path) -> None:
    """Below the cap the fit is the uncapped one: same model id (fit_sample is not in its key), same rows."""
    from pipeline.topics.fit import TopicParams

    uncapped = _capped_tables(topics_db, tmp_path, "uncapped", TopicParams(fit_sample=1_000_000))
    for cap in (757, 10_000):
        capped = _capped_tables(topics_db, tmp_path, f"cap{cap}", TopicParams(fit_sample=cap), batch_rows=100)
        assert capped[0] == uncapped[0] and capped[1] == uncapped[1]
    parameters = [json.loads(row[2]) for row in uncapped[1]["topic_models"]]
    assert all("fit_sample" not in p for p in parameters)
    assert uncapped[0].n_topics == 19  # round(sqrt(757 / 2))


@pytest.mark.slow  # several BERTopic fits of 757 documents
def test_capped_refit_replaces_the_selections_model_and_needs_a_per_document_embedder(topics_db: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from flows.cli import all_commands, cli
    from pipeline.topics.fit import TopicParams, run_topics

    for command in all_commands():
        cli.add_command(command)
    path = tmp_path / "cli.duckdb"
    shutil.copyfile(topics_db, path)
    runner = CliRunner()
    for cap in ("100000", "60"):
        # --n-topics fixed: otherwise the corpus-size rule resolves k differently for 757 and 60
        # documents, and models whose parameters differ are kept side by side
        result = runner.invoke(cli, ["topics", "--db", str(path), "--notebook", "any", "--n-topics", "5", "--fit-sample", cap])
        assert result.exit_code == 0, result.output
        assert "757 questions" in result.output
    con = connect(path)
    try:
        models = con.execute("SELECT selection, parameters FROM topic_models ORDER BY n_docs").fetchall()
        with pytest.raises(StackmineError, match="depend on the whole corpus"):
            run_topics(con, ALL_ML, TopicParams(backend="tfidf", fit_sample=60))
    finally:
        con.close()
    assert len(models) == 2  # the default selection's, and the capped fit that replaced the uncapped one
    assert json.loads(models[1][1])["fit_sample"] == 60
