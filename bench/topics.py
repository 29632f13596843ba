"""Benchmark: BERTopic (stackmine's settings) against a scikit-learn LDA baseline, same documents.

For each corpus size it fits BERTopic exactly as `stackmine topics` does (shipped model2vec
embeddings, the corpus-size rule of pipeline/topics.py), then LDA with the same vocabulary and
the same number of topics, and scores both with the same NPMI coherence and diversity
(pipeline/quality.py). Each (model, size) runs in a fresh subprocess so peak RSS is its own.

Documents: the real question and answer texts of the SEDE data-science export (1,475 questions)
and the ai.stackexchange.com 2017-03 dump (604 questions, 1,004 answers): about 3,000 unique
texts. Larger corpora REPEAT them: copy i of a text keeps each word with probability 0.85
(seeded), so no two documents are identical (exact duplicates would make UMAP's neighbour
graph fall apart into cliques). Generated corpora stay in memory, nothing is written.

Run (about 10 minutes on 2 cores):
    .venv/bin/python bench/topics.py --sizes 5000 20000 100000 --shared ../shared/data

`--stream` measures the whole `stackmine topics` step instead (issue #14: flat memory): each
corpus is written as question_text/question_labels rows of a scratch DuckDB by one subprocess,
then `run_topics` runs on it in a fresh one (default selection, default --fit-sample unless
`--fit-sample` is given), which reports its peak RSS and the wall seconds of each phase: survey
(stream and hash the selection), sample (read and embed the fitted documents), fit, store
(embed and assign the rest in batches, write). The load (`uptime`) is printed before each run.
    .venv/bin/python bench/topics.py --stream --sizes 20000 100000 200000 --shared ../shared/data
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEDE = "sede/stackoverflow.com/data-science-questions-2022.csv"
AI_POSTS = "dumps/2017-03/ai.stackexchange.com/Posts.xml"


def _strip_html(html: str) -> str:
    import lxml.html

    if not html or not html.strip():
        return ""
    root = lxml.html.fromstring(f"<div>{html}</div>")
    for pre in root.xpath("//pre"):
        pre.drop_tree()
    return re.sub(r"\s+", " ", root.text_content()).strip()


def real_texts(shared: Path) -> list[str]:
    """Unique real texts: title + prose + tags of questions, prose of answers."""
    import pandas as pd
    from lxml import etree

    texts = []
    frame = pd.read_csv(shared / SEDE, dtype=str, keep_default_na=False)
    for title, body, tags in zip(frame["Title"], frame["Body"], frame["Tags"], strict=True):
        texts.append(f"{title}\n{_strip_html(body)}\n{' '.join(re.split(r'[<>|]+', tags)).replace('-', ' ')}")
    for _, row in etree.iterparse(str(shared / AI_POSTS), tag="row"):
        if row.get("PostTypeId") in ("1", "2"):
            tags = " ".join(re.split(r"[<>|]+", row.get("Tags", ""))).replace("-", " ")
            texts.append(f"{row.get('Title', '')}\n{_strip_html(row.get('Body', ''))}\n{tags}".strip())
        row.clear()
    return sorted({t for t in texts if len(t.split()) >= 5})


def corpus(texts: list[str], n: int, seed: int = 42) -> list[str]:
    """`n` documents: the real texts, then word-dropout copies of them (see module doc)."""
    rng = np.random.default_rng(seed)
    docs = list(texts[:n])
    while len(docs) < n:
        words = texts[len(docs) % len(texts)].split()
        keep = rng.random(len(words)) < 0.85
        docs.append(" ".join(w for w, k in zip(words, keep, strict=True) if k) or words[0])
    return docs


def run_one(model: str, n: int, shared: Path, n_topics: int | None) -> dict:
    """Fit one model on an n-document corpus in this process; return its figures."""
    from pipeline.topics.coherence import diversity, make_vectorizer, npmi_coherence

    docs = corpus(real_texts(shared), n)
    start = time.perf_counter()
    if model == "bertopic":
        from pipeline.topics.embeddings import Model2VecEmbedder
        from pipeline.topics.fit import TopicParams, fit_topics

        embeddings = Model2VecEmbedder().embed(docs)
        embed_seconds = time.perf_counter() - start
        params = TopicParams().resolve(n)
        fitted = fit_topics(docs, embeddings, params)
        found = len([t for t in fitted.terms if t != -1])
        result = {"coherence": fitted.coherence, "diversity": fitted.diversity, "topics": found,
                  "outliers": int((fitted.topics == -1).sum()), "embed_s": round(embed_seconds, 1),
                  "params": f"{params.reducer}+{params.clusterer}"}
    else:
        from sklearn.decomposition import LatentDirichletAllocation

        from pipeline.topics.coherence import clean_text

        docs = [clean_text(d) for d in docs]

        vectorizer = make_vectorizer(n)
        counts = vectorizer.fit_transform(docs)
        lda = LatentDirichletAllocation(n_components=n_topics, learning_method="online", batch_size=2048,
                                        max_iter=5, random_state=42).fit(counts)
        vocab = vectorizer.get_feature_names_out()
        terms = [[vocab[i] for i in row.argsort()[::-1][:10]] for row in lda.components_]
        coherence, _ = npmi_coherence(terms, docs, vectorizer.build_analyzer())
        result = {"coherence": coherence, "diversity": diversity(terms), "topics": n_topics, "params": "online, 5 passes"}
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["docs_per_s"] = round(n / result["seconds"], 0)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)
    return result


def build_db(path: Path, n: int, shared: Path) -> None:
    """A scratch database whose default selection (notebook ML questions) is the n-document corpus:
    first line of a text as the title, the rest as prose, no tags, one site, one question a post."""
    import pyarrow as pa

    from pipeline.steps import connect

    docs = corpus(real_texts(shared), n)
    con = connect(path)
    try:
        for first in range(0, n, 50_000):
            part = docs[first:first + 50_000]
            ids = pa.array(range(first + 1, first + len(part) + 1), pa.int64())
            heads = [d.partition("\n") for d in part]
            site = ["stackoverflow.com"] * len(part)
            dump = ["bench"] * len(part)
            created = pa.array([f"20{10 + i % 14}-0{1 + i % 9}-01 00:00:00" for i in range(first, first + len(part))]).cast(pa.timestamp("us"))
            empty = pa.array([[]] * len(part), pa.list_(pa.string()))
            con.from_arrow(pa.table({
                "site": site, "dump_id": dump, "post_id": ids, "creation_date": created,
                "title": [h[0] for h in heads], "prose": [h[2] for h in heads], "code": [""] * len(part),
                "inline_code": empty, "links": empty, "tags": empty, "text_version": ["bench"] * len(part)})).insert_into("question_text")
            con.from_arrow(pa.table({
                "site": site, "dump_id": dump, "post_id": ids, "platforms": pa.array([["jupyter"]] * len(part)),
                "notebook": [True] * len(part), "ml": [True] * len(part), "stage": ["none"] * len(part),
                "stage2": [None] * len(part), "evidence": ["{}"] * len(part), "classifier_version": ["bench"] * len(part),
                "p_ml": [1.0] * len(part), "p_stage": pa.array([[]] * len(part), pa.list_(pa.float64()))})).insert_into("question_labels")
    finally:
        con.close()


def run_stream(path: Path, fit_sample: int | None) -> dict:
    """`run_topics` on the scratch database, in this process; its figures."""
    from pipeline.core.selection import Selection
    from pipeline.steps import connect
    from pipeline.topics.fit import TopicParams, run_topics

    params = TopicParams() if fit_sample is None else TopicParams(fit_sample=fit_sample)
    con = connect(path)
    start = time.perf_counter()
    try:
        run = run_topics(con, Selection(), params)
    finally:
        con.close()
    return {"seconds": round(time.perf_counter() - start, 1), "timings": run.timings, "topics": run.n_topics,
            "coherence": run.coherence, "docs": run.n_docs, "fitted": min(run.n_docs, params.fit_sample),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)}


def stream_sizes(sizes: list[int], shared: Path, fit_sample: int | None) -> None:
    """One line per size: the topics step end to end on a scratch DuckDB (module doc)."""
    import tempfile

    print(f"{'docs':>7} {'fitted':>7} {'topics':>6} {'NPMI':>7} {'seconds':>8} {'survey':>7} {'sample':>7} {'fit':>7} "
          f"{'store':>7} {'peak MB':>8}  load before (1/5/15 min)")
    for n in sizes:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "bench.duckdb"
            subprocess.run([sys.executable, __file__, "--build", str(path), "--sizes", str(n), "--shared", str(shared)],
                           check=True)
            load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.split("load average:")[-1].strip()
            cmd = [sys.executable, __file__, "--topics-db", str(path)]
            if fit_sample is not None:
                cmd += ["--fit-sample", str(fit_sample)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
        t = r["timings"]
        print(f"{r['docs']:>7} {r['fitted']:>7} {r['topics']:>6} {r['coherence']:>7.3f} {r['seconds']:>8.1f} "
              f"{t['survey']:>7.1f} {t['sample']:>7.1f} {t['fit']:>7.1f} {t['store']:>7.1f} {r['peak_rss_mb']:>8.0f}  {load}",
              flush=True)


def _child(model: str, n: int, shared: Path, n_topics: int | None) -> dict:
    cmd = [sys.executable, __file__, "--one", model, "--sizes", str(n), "--shared", str(shared)]
    if n_topics:
        cmd += ["--n-topics", str(n_topics)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run every size, print one table row per (size, model) and the BERTopic/LDA ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="example: .venv/bin/python bench/topics.py --stream --sizes 20000 100000 200000 --shared ../shared/data")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 100000])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--one", choices=["bertopic", "lda"], help=argparse.SUPPRESS)
    parser.add_argument("--n-topics", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stream", action="store_true", help="the topics step end to end on DuckDB (module doc)")
    parser.add_argument("--fit-sample", type=int, help="with --stream: the cap (default: the step's)")
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--topics-db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build or args.topics_db:
        import warnings

        warnings.filterwarnings("ignore")
        if args.build:
            build_db(args.build, args.sizes[0], args.shared)
        else:
            print(json.dumps(run_stream(args.topics_db, args.fit_sample)))
        return
    if args.stream:
        stream_sizes(args.sizes, args.shared, args.fit_sample)
        return
    if args.one:
        import warnings

        warnings.filterwarnings("ignore")
        print(json.dumps(run_one(args.one, args.sizes[0], args.shared, args.n_topics)))
        return
    print(f"{'docs':>7} {'model':8} {'topics':>6} {'NPMI':>7} {'divers.':>7} {'seconds':>8} {'docs/s':>8} {'peak MB':>8}  settings")
    for n in args.sizes:
        bert = _child("bertopic", n, args.shared, None)
        lda = _child("lda", n, args.shared, max(2, bert["topics"]))
        for name, r in (("BERTopic", bert), ("LDA", lda)):
            print(f"{n:>7} {name:8} {r['topics']:>6} {r['coherence']:>7.3f} {r['diversity']:>7.3f} {r['seconds']:>8.1f} "
                  f"{r['docs_per_s']:>8.0f} {r['peak_rss_mb']:>8.0f}  {r['params']}"
                  + (f", {r['outliers']} outliers, embed {r['embed_s']} s" if name == "BERTopic" else ""))
        print(f"{n:>7} ratio    coherence BERTopic-LDA {bert['coherence'] - lda['coherence']:+.3f}, "
              f"time BERTopic/LDA {bert['seconds'] / lda['seconds']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
