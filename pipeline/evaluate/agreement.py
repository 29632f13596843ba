"""Agreement between two coders, and between each coder and the classifier, per label family.

Two sheet shapes are read:
- the blind sheet of `stackmine export --sample` (coding_sample.csv), one row per question with
  columns for coder 1 and coder 2 and no labels (`pipeline.evaluate.sheet` reads and checks it);
  the classifier's labels come from the database (`sheet_agreement`, `stackmine agreement FILE`);
- the older long sheet (the labelled coding_sample_with_labels.csv: the classifier's `platforms`,
  `ml`, `stage` beside a coder's `code_platforms`, `code_ml`, `code_stage` and `coder`), one row per
  (question, coder): two coders' sheets concatenated (`agreement_table`).

Families: `notebook-any` (any platform or none), `ml` (yes/no), `stage` (the primary stage, with
`none` for a question coded ml = no, so the stage agreement includes the ML decision), and
`stage | both ml` (only questions both raters call ML: agreement on the stage alone).

Missing codes: a question a coder did not code counts for no family of that coder. Cohen's kappa
uses the questions both raters coded; Krippendorff's alpha (nominal) is given the missing values
and drops units with fewer than two codes, as it is defined to.

Kappa is scikit-learn's. Alpha is computed here from the coincidence matrix (Krippendorff 2011,
"Computing Krippendorff's alpha-reliability"): the `krippendorff` package on PyPI is GPL-3.0,
which an MIT-licensed product should not import; tests check this function against the package
when it is present, and against hand-computed values always.

    stackmine agreement coding_sheet.csv
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from pipeline.core.errors import CoverageError

if TYPE_CHECKING:
    from pipeline.evaluate.sheet import Code, CodedSheet

CLASSIFIER = "classifier"
CODER_1, CODER_2 = "coder 1", "coder 2"
# The pairs a blind sheet is scored on: the coders with each other, then each with the classifier.
PAIRS = ((CODER_1, CODER_2), (CODER_1, CLASSIFIER), (CODER_2, CLASSIFIER))
FAMILIES = ("notebook-any", "ml", "stage", "stage | both ml")
KEY = ["site", "post_id"]
GOLD_AGREEMENT_FILE = "gold_agreement.csv"


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def _yes(value: object) -> bool | None:
    if _blank(value):
        return None
    text = str(value).strip().lower()
    if text in ("yes", "true", "1", "y"):
        return True
    if text in ("no", "false", "0", "n"):
        return False
    raise CoverageError(f"ml code {value!r} is not yes or no")


def _platforms(value: object) -> bool:
    """Whether a platforms cell names a platform ('' and 'none' do not; lists print as [...])."""
    if _blank(value):
        return False
    parts = [p.strip(" '\"[]") for p in str(value).replace(",", ";").split(";")]
    return any(p and p != "none" for p in parts)


def codes(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Per question, one rater's codes per family (None = missing). `prefix` is 'code_' for a
    coder's columns, '' for the classifier's."""
    ml = frame[f"{prefix}ml"].map(_yes)
    coded = ml.notna()
    stage = frame[f"{prefix}stage"].map(lambda s: None if _blank(s) else str(s).strip())
    stage = stage.where(ml != False, "none")  # noqa: E712 - ml is an object column of True/False/None
    out = pd.DataFrame({
        "notebook-any": frame[f"{prefix}platforms"].map(_platforms).where(coded, None),
        "ml": ml,
        "stage": stage.where(coded, None),
    }, index=frame.index)
    return out.astype(object).where(out.notna(), None)


def raters(sheet: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Codes of every coder and of the classifier, indexed by (site, post_id)."""
    missing = [c for c in KEY + ["coder", "code_ml", "code_stage", "code_platforms", "ml", "stage", "platforms"]
               if c not in sheet.columns]
    if missing:
        raise CoverageError(f"the coding sheet lacks columns {missing} (expected coding_sample.csv's shape)")
    sheet = sheet.copy()
    sheet["coder"] = sheet["coder"].map(lambda c: "" if _blank(c) else str(c).strip())
    if (sheet["coder"] == "").any():
        raise CoverageError("every row needs a coder name (column `coder`)")
    if sheet.duplicated(KEY + ["coder"]).any():
        raise CoverageError("a coder codes a question twice; one row per (question, coder)")
    out = {c: codes(part, "code_").set_axis(pd.MultiIndex.from_frame(part[KEY]))
           for c, part in sheet.groupby("coder", sort=True)}
    first = sheet.drop_duplicates(KEY)
    out[CLASSIFIER] = codes(first, "").set_axis(pd.MultiIndex.from_frame(first[KEY]))
    return out


def krippendorff_alpha_nominal(reliability: Sequence[Sequence[object]]) -> float:
    """Krippendorff's alpha for nominal codes; `reliability` is raters x units, None = missing.

    Each unit with m >= 2 codes adds every ordered pair of its codes to the coincidence matrix
    with weight 1 / (m - 1); alpha = 1 - observed / expected disagreement.
    """
    units = list(zip(*reliability))
    values = sorted({str(v) for unit in units for v in unit if v is not None})
    index = {v: i for i, v in enumerate(values)}
    coincidence = np.zeros((len(values), len(values)))
    for unit in units:
        codes = [index[str(v)] for v in unit if v is not None]
        if len(codes) < 2:
            continue
        for i, a in enumerate(codes):
            for j, b in enumerate(codes):
                if i != j:
                    coincidence[a, b] += 1.0 / (len(codes) - 1)
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    if n < 2:
        return float("nan")
    observed = (coincidence.sum() - np.trace(coincidence)) / n
    expected = (n * n - np.sum(n_c * n_c)) / (n * (n - 1))
    return float(1.0 - observed / expected) if expected > 0 else float("nan")


def pair_agreement(a: Sequence[object], b: Sequence[object]) -> dict[str, float]:
    """Cohen's kappa, Krippendorff's alpha (nominal) and raw agreement of two raters' codes."""
    a_list, b_list = list(a), list(b)
    both = [(x, y) for x, y in zip(a_list, b_list) if x is not None and y is not None]
    kappa = alpha = float("nan")
    if both:
        xs, ys = [str(x) for x, _ in both], [str(y) for _, y in both]
        # one category in every pairable unit: expected disagreement is 0 and both are 0/0
        if len(set(xs) | set(ys)) > 1:
            kappa = float(cohen_kappa_score(xs, ys))
            alpha = krippendorff_alpha_nominal([a_list, b_list])
    agree = float(np.mean([x == y for x, y in both])) if both else float("nan")
    return {"n": len(both), "agreement": agree, "kappa": kappa, "alpha": alpha}


def agreement_table(sheet: pd.DataFrame) -> pd.DataFrame:
    """One row per (family, pair of raters) of a long sheet: the two coders, then each coder against
    the classifier."""
    coded = raters(sheet)
    coders = [c for c in coded if c != CLASSIFIER]
    if len(coders) != 2:
        raise CoverageError(f"expected two coders, found {coders}")
    pairs = [(coders[0], coders[1]), (coders[0], CLASSIFIER), (coders[1], CLASSIFIER)]
    return family_table(coded, pairs, coded[coders[0]].index.union(coded[coders[1]].index))


def family_table(coded: Mapping[str, pd.DataFrame], pairs: Sequence[tuple[str, str]],
                 units: pd.Index) -> pd.DataFrame:
    """Agreement of each pair of raters per family over `units` (a rater without a unit: missing)."""
    rows = []
    for family in FAMILIES:
        for left, right in pairs:
            source = "stage" if family.startswith("stage") else family
            a = coded[left][source].reindex(units)
            b = coded[right][source].reindex(units)
            a, b = a.astype(object).where(a.notna(), None), b.astype(object).where(b.notna(), None)
            if family == "stage | both ml":
                keep = (a.notna() & b.notna() & (a != "none") & (b != "none")).to_numpy()
                a, b = a[keep], b[keep]
            rows.append({"family": family, "rater_a": left, "rater_b": right, **pair_agreement(a.tolist(), b.tolist())})
    return pd.DataFrame.from_records(rows, columns=["family", "rater_a", "rater_b", "n", "agreement", "kappa", "alpha"])


def code_frame(codes: Mapping[tuple[str, int], Code]) -> pd.DataFrame:
    """One rater's codes (sheet.Code per (site, post_id)) as the families' columns."""
    keys = sorted(codes)
    index = pd.MultiIndex.from_tuples(keys, names=KEY) if keys else pd.MultiIndex.from_tuples([], names=KEY)
    return pd.DataFrame({
        "notebook-any": [codes[k].notebook for k in keys],
        "ml": [codes[k].ml for k in keys],
        "stage": [codes[k].stage if codes[k].ml else "none" for k in keys],
    }, index=index, dtype=object)


def codes_agreement(coder1: Mapping[tuple[str, int], Code], coder2: Mapping[tuple[str, int], Code],
                    machine: Mapping[tuple[str, int], Code]) -> pd.DataFrame:
    """PAIRS × FAMILIES over the questions either coder coded; `machine` holds the classifier's labels
    (a question it has none for is missing for the classifier)."""
    coded = {CODER_1: code_frame(coder1), CODER_2: code_frame(coder2), CLASSIFIER: code_frame(machine)}
    units = coded[CODER_1].index.union(coded[CODER_2].index)
    return family_table(coded, PAIRS, units)


def sheet_agreement(sheet: CodedSheet, machine: Mapping[tuple[str, int], Code]) -> pd.DataFrame:
    """Agreement of a checked blind sheet's two coders with each other and with `machine`."""
    by_coder = [{(q.site, q.post_id): q.codes[c] for q in sheet.questions if c in q.codes} for c in (1, 2)]
    return codes_agreement(by_coder[0], by_coder[1], machine)


def gold_agreement() -> list[dict]:
    """The recorded agreement of the gold labels' second passes (records/gold_agreement.csv): per
    pass (`gold_set`, which says how it was made) and family, Cohen's kappa and the questions behind it."""
    text = (resources.files("pipeline.evaluate") / "records" / GOLD_AGREEMENT_FILE).read_text(encoding="utf-8")
    return [{**r, "kappa": float(r["kappa"]), "n": int(r["n"])} for r in csv.DictReader(io.StringIO(text))]
