"""`stackmine topics`: BERTopic over a selection of labelled questions, offline and seeded."""

from __future__ import annotations

from pathlib import Path

import click

from flows.cli.options import db_option, wait_option
from flows.cli.selection_options import selection_from, selection_options
from pipeline.topics import DEFAULT_FIT_SAMPLE, STEP


@click.command(STEP.name)
@db_option
@selection_options
@click.option("--backend", type=click.Choice(["model2vec", "tfidf"]), default="model2vec", show_default=True,
              help="Embeddings: the shipped static MiniLM model, or TF-IDF+SVD (fast, weaker).")
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of every random step.")
@click.option("--reducer", type=click.Choice(["auto", "pca", "umap"]), default="auto", show_default=True,
              help="Dimension reduction before clustering (auto = PCA; see pipeline/topics/fit.py for why).")
@click.option("--clusterer", type=click.Choice(["auto", "kmeans", "hdbscan"]), default="auto", show_default=True,
              help="Clustering (auto = k-means, every question gets a topic; hdbscan leaves outliers as -1).")
@click.option("--n-topics", type=int, help="k for k-means; default round(sqrt(n / 2)), at most 50.")
@click.option("--min-topic-size", type=int, help="HDBSCAN min_cluster_size; default n // 500 within 10..200.")
@click.option("--period", type=click.Choice(["year", "quarter"]), default="year", show_default=True,
              help="Period of topics_over_time.")
@click.option("--fit-sample", type=click.IntRange(min=3), default=DEFAULT_FIT_SAMPLE, show_default=True,
              help="Fit on a seeded sample of at most this many questions and give the rest the nearest topic "
                   "(memory stays flat); a selection this size or smaller is fitted whole.")
@click.option("--force", is_flag=True, help="Refit even if this exact model is stored.")
@click.option("--save-model", type=click.Path(file_okay=False, path_type=Path),
              help="Also save the fitted BERTopic here (safetensors; loads offline).")
@wait_option
def topics_command(db_path: Path, sites, platforms, year_from, year_to, notebook, ml, where, backend: str, seed: int,
                   reducer: str, clusterer: str, n_topics: int | None, min_topic_size: int | None, period: str, fit_sample: int,
                   force: bool,
                   save_model: Path | None, wait_seconds: float) -> None:
    """Fit BERTopic on title + prose + tags of the selected questions (default: notebook
    questions about ML) and store topic_models, topics, question_topics, topics_over_time.
    Embeddings come from the model shipped in pipeline/topics/models/ (no network) and are cached;
    the same input gives the same topics, and an unchanged input is skipped.

    \b
    Example:
      stackmine topics
      stackmine topics --site stackoverflow.com --notebook any --backend tfidf
      stackmine topics --notebook any --ml any --reducer umap --clusterer hdbscan
    """
    from pipeline.core.step import Scope
    from pipeline.steps import connect, run_step
    from pipeline.topics import fit
    from pipeline.topics.store import list_topics

    selection = selection_from(sites, platforms, year_from, year_to, notebook, ml, where)
    params = fit.TopicParams(backend=backend, seed=seed, reducer=reducer, clusterer=clusterer, n_topics=n_topics,
                             min_topic_size=min_topic_size, period=period, fit_sample=fit_sample)
    scope = Scope(selection.describe(), selection.sites)
    con = connect(db_path, wait_seconds=wait_seconds)
    try:
        run = run_step(con, STEP, scope, lambda: fit.run(con, scope, selection, params, refit=force, progress=True,
                                                         save_to=save_model),
                       force=True, extra=(scope.name,) if params == fit.TopicParams() else (scope.name, params)).result
        rows = list_topics(con, run.topic_model_id)
    finally:
        con.close()
    status = "unchanged, skipped" if run.skipped else "fitted"
    click.echo(f"topic model {run.topic_model_id}: {run.n_docs:,} questions, {run.n_topics} topics ({status})")
    click.echo(f"  coherence (NPMI) {_fmt(run.coherence)}, diversity {_fmt(run.diversity)}")
    for topic_id, size, label in rows:
        click.echo(f"  {topic_id:>4} {size:>6}  {label}")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


COMMANDS = [topics_command]
