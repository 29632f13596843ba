"""The labelled questions (data/gold/dev.csv + train.csv) with their text, parsed exactly as the
product parses it, and the sampling design they were drawn with.

The text comes from three sources bundled in the repository: the 2022 data-science SEDE export
(data/sample/stackoverflow.com/; dev.csv and train.csv's first part), the gensim/scikit-image SEDE
export of 2012–2020 (data/gold/stackoverflow.com/; train.csv's second part and most of its probe)
and the 2017-03 ai.stackexchange.com dump (data/sample/ai.stackexchange.com.7z; the rest of the
probe). Two SEDE exports of one site cannot share a database (the second would replace the first
as a newer snapshot of stackoverflow.com), so each source is ingested into its own scratch DuckDB
file and run through `stackmine text`; the question tuples are then what `Classifier.label_many`
takes. The pool (which source) travels with each question: the held-out split, the folds and the
leave-one-pool-out checks use it.

The design (data/gold/README.md): dev.csv and train.csv's first 1,175 rows are every question of
the 2022 export (one stratum, weight 1); train.csv's next 560 rows are a census of the 2012–2020
export's questions mentioning a notebook platform plus a random sample of the rest (weight: the
rest's size over the sample's); its last 70 rows are a keyword-selected probe for rare stages,
which no prevalence or error rate may use (keyword selection flatters keyword rules).
"""

from __future__ import annotations

import csv
import html
import logging
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import StackmineError
from pipeline.core.paths import GOLD, SAMPLE
from pipeline.core.sql import SqlFile

SQL = SqlFile("pipeline.evaluate", "evaluate.sql")
GOLD_FILES = ("dev.csv", "train.csv")
SPLIT = GOLD / "heldout-ids.v1.csv"  # the held-out split (pipeline/evaluate/split.py): never fitted on
# (pool, path, site): one scratch database each.
SOURCES = (
    ("ds2022", SAMPLE / "stackoverflow.com" / "data-science-questions-2022.csv", "stackoverflow.com"),
    ("nlcv", GOLD / "stackoverflow.com" / "nlp-cv-library-questions-2012-2020.csv", "stackoverflow.com"),
    ("ai", SAMPLE / "ai.stackexchange.com.7z", "ai.stackexchange.com"),
)
# train.csv's parts, in file order (data/gold/README.md): (part, rows, pools its questions come from).
TRAIN_PARTS = (("ds2022", 1175, {"ds2022"}), ("nlcv", 560, {"nlcv"}), ("probe", 70, {"nlcv", "ai"}))
# The census stratum of the nlcv part: these words in the title, the tags or the body as plain text
# cut at 3,000 characters (what the annotators read), case-insensitive.
MENTION_WORDS = ("jupyter", "colab", "kaggle", "ipython", "databricks", "sagemaker")
MENTION_BODY_CHARS = 3000
_TAG = re.compile(r"<[^>]+>")


class GoldCorpusError(StackmineError):
    """A gold question has no text in any source, a source is missing, or the files do not have
    the shape the design says."""


@dataclass(frozen=True)
class GoldQuestion:
    """One labelled question: where it is from, its parsed text and its gold labels."""

    site: str
    post_id: int
    pool: str  # ds2022 | nlcv | ai: which source it was drawn from
    file: str  # dev.csv | train.csv: which gold file labels it
    part: str  # dev | ds2022 | nlcv | probe: which part of the sampling design (TRAIN_PARTS)
    question: tuple  # (title, prose, inline_code, code, tags): what Classifier.label_many takes
    platforms: frozenset[str]
    ml: bool
    stage: str  # "none" when ml is no
    stage2: str  # "" when none

    @property
    def key(self) -> tuple[str, int]:
        return (self.site, self.post_id)


def read_labels(gold_dir: Path = GOLD) -> list[dict]:
    """The rows of dev.csv then train.csv, in file order, each with its file name and design part."""
    rows = []
    for name in GOLD_FILES:
        with open(gold_dir / name, newline="", encoding="utf-8") as handle:
            labelled = list(csv.DictReader(handle))
        if name == "dev.csv":
            parts = ["dev"] * len(labelled)
        else:
            parts = [part for part, size, _pools in TRAIN_PARTS for _ in range(size)]
            if len(parts) != len(labelled):
                raise GoldCorpusError(f"{gold_dir / name}: {len(labelled)} rows, but its README describes "
                                      f"{len(parts)} in three parts ({', '.join(p for p, _, _ in TRAIN_PARTS)}).")
        rows.extend({**row, "file": name, "part": part} for row, part in zip(labelled, parts))
    return rows


def source_texts(workdir: Path, sources=SOURCES) -> dict[tuple[str, int], tuple[str, tuple]]:
    """(site, post_id) → (pool, question tuple) for every question of every source."""
    from pipeline.core.db import connect
    from pipeline.ingest import STEP as INGEST
    from pipeline.ingest.load import ingest
    from pipeline.text import STEP as TEXT
    from pipeline.text.extract import extract

    out: dict[tuple[str, int], tuple[str, tuple]] = {}
    for pool, path, site in sources:
        if not path.exists():
            raise GoldCorpusError(f"{path}: a source of the gold questions' text is missing; it ships with "
                                  "the repository (data/gold/README.md).")
        con = connect(workdir / f"{pool}.duckdb", schema=[INGEST.tables(), TEXT.tables()])
        try:
            with _quiet("pipeline.ingest", "pipeline.text"):  # scratch databases: their progress is no news
                ingest(con, [path], site=site, workers=1)
                extract(con)
            rows = con.execute(SQL("corpus_text")).fetchall()
        finally:
            con.close()
        for row_site, post_id, title, prose, inline, code, tags in rows:
            out[(row_site, int(post_id))] = (pool, (title or "", prose or "", list(inline or []), code or "",
                                                    list(tags or [])))
    return out


@contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """Only warnings and errors from these loggers while the block runs."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def load_gold_corpus(gold_dir: Path = GOLD, sources=SOURCES) -> list[GoldQuestion]:
    """Every gold question with its text, in gold-file order (dev.csv, then train.csv)."""
    with tempfile.TemporaryDirectory(prefix="stackmine-gold-") as tmp:
        texts = source_texts(Path(tmp), sources)
    pools_of = {part: pools for part, _size, pools in TRAIN_PARTS} | {"dev": {"ds2022"}}
    out = []
    for row in read_labels(gold_dir):
        key = (row["site"], int(row["post_id"]))
        if key not in texts:
            raise GoldCorpusError(f"{gold_dir / row['file']}: {key[0]} {key[1]} is in no source "
                                  f"({', '.join(str(p) for _, p, _ in sources)}).")
        pool, question = texts[key]
        if pool not in pools_of[row["part"]]:
            raise GoldCorpusError(f"{gold_dir / row['file']}: {key[0]} {key[1]} (part {row['part']}) comes from "
                                  f"the {pool} source, not from {' or '.join(sorted(pools_of[row['part']]))}.")
        platforms = frozenset(p.strip() for p in (row["platforms"] or "").split(";") if p.strip())
        ml = row["ml"] == "yes"
        out.append(GoldQuestion(key[0], key[1], pool, row["file"], row["part"], question, platforms, ml,
                                row["stage"] if ml else "none", (row.get("stage2") or "").strip()))
    return out


def mentions_a_platform(title: str, tags: str, body_html: str) -> bool:
    """The nlcv census rule: a MENTION_WORDS word in the title, the tags or the first
    MENTION_BODY_CHARS characters of the body as plain text."""
    body = html.unescape(_TAG.sub("", body_html))[:MENTION_BODY_CHARS]
    text = f"{title}\n{tags}\n{body}".lower()
    return any(word in text for word in MENTION_WORDS)


def mention_ids(path: Path = SOURCES[1][1]) -> set[int]:
    """Ids of the questions of the 2012–2020 export that the census rule takes."""
    csv.field_size_limit(1 << 30)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return {int(r["Id"]) for r in csv.DictReader(handle)
                if r["PostTypeId"] == "1" and mentions_a_platform(r["Title"], r["Tags"], r["Body"])}


def question_count(path: Path) -> int:
    """Questions in a SEDE export."""
    csv.field_size_limit(1 << 30)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return sum(r["PostTypeId"] == "1" for r in csv.DictReader(handle))


@dataclass(frozen=True)
class Stratum:
    """A gold question's sampling stratum and design weight (questions of its population it stands for)."""

    name: str
    weight: float


def design(corpus: list[GoldQuestion]) -> dict[tuple[str, int], Stratum]:
    """Stratum and weight of every question of the design's random parts; the probe has none.

    dev.csv and train.csv's ds2022 part together are every question of the 2022 export: one
    stratum, weight 1. The nlcv part is a census of the export's questions that mention a platform
    (weight 1) and a random sample of the rest (weight: the rest's size over the sample's); a
    mention question outside the sample would make the census weight wrong, so it is an error.
    """
    nlcv_path = SOURCES[1][1]
    mentioned = mention_ids(nlcv_path)
    nlcv = [q for q in corpus if q.part == "nlcv"]
    census = [q for q in nlcv if q.post_id in mentioned]
    missed = mentioned - {q.post_id for q in census}
    if missed:
        raise GoldCorpusError(f"{nlcv_path}: {len(missed)} questions mention a platform but are not in train.csv's "
                              f"nlcv part (e.g. {min(missed)}): the census stratum is incomplete.")
    rest = question_count(nlcv_path) - len(mentioned)
    random_weight = round(rest / (len(nlcv) - len(census)), 6)
    out = {}
    for q in corpus:
        if q.part in ("dev", "ds2022"):
            out[q.key] = Stratum("ds2022", 1.0)
        elif q.part == "nlcv":
            out[q.key] = Stratum("nlcv-mention", 1.0) if q.post_id in mentioned else Stratum("nlcv-random", random_weight)
    return out


def design_summary(strata: dict[tuple[str, int], Stratum]) -> str:
    """One line: questions and weight per stratum."""
    counts = Counter(s for s in strata.values())
    return "; ".join(f"{s.name} {n} (weight {s.weight})" for s, n in sorted(counts.items(), key=lambda x: x[0].name))
