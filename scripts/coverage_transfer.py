#!/usr/bin/env python3
"""Does the correction transfer between pools of questions? Leave one gold pool out.

The corrected shares assume the classifier errs on the studied questions as it does on the gold
questions its confusion matrix comes from. This checks that assumption where the truth is known:
for each pool of pipeline/coverage/rules/gold_predictions.csv (ds2022: the 2022 data-science
questions; nlcv: the 2012-2020 NLP/vision library questions), the confusion is measured on the
other pool only, the pool's stage shares are estimated from its predicted labels as the stages step
does, and each estimated class's 95% interval is compared with the pool's gold shares.
`--in-sample` measures the confusion on every gold question instead (the shipped setting; an
optimistic check, since the questions being estimated built the matrix).

Usage: .venv/bin/python scripts/coverage_transfer.py [--in-sample]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.coverage.estimates import Group, estimate  # noqa: E402
from pipeline.coverage.table import PRED_CLASSES, error_model, gold_predictions  # noqa: E402

POOLS = {"ds2022": ("ds2022",), "nlcv": ("nlcv-mention", "nlcv-random")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-sample", action="store_true", help="measure the confusion on every gold question")
    args = parser.parse_args()
    pairs = gold_predictions()
    versions = sorted(set(pairs["classifier_version"]))
    total_cover = total = 0
    for pool, strata in POOLS.items():
        inside = pairs["stratum"].isin(strata)
        source = pairs if args.in_sample else pairs[~inside]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "gold.csv"
            source.drop(columns=["true", "pred"]).to_csv(path, index=False)
            model = error_model(versions, path)
        group = pairs[inside]
        point, reps = estimate(model, Group.from_labels(pool, group["pred"].tolist(), PRED_CLASSES))
        low, high = np.percentile(reps, [2.5, 97.5], axis=0)
        ml = group[group["gold_ml"] == "yes"]
        truth = ml["gold_stage"].map(lambda s: model.mapping.get(s, s)).value_counts(normalize=True)
        called = group[group["pred_ml"] == "yes"]
        raw = called["pred_stage"].map(lambda s: model.mapping.get(s, s)).value_counts(normalize=True)
        classes = [c for c in model.estimated if not model.outside or c not in model.outside]
        print(f"{pool}: {len(group)} questions ({len(ml)} gold ML); confusion from "
              f"{'every gold question' if args.in_sample else 'the other pool'} ({len(source)})")
        print(f"  {'stage':26s} {'gold':>6s} {'raw':>6s} {'corrected [95%]':>22s}")
        cover = 0
        for i, name in enumerate(classes):
            t = truth.get(name, 0.0)
            ok = bool(low[i] <= t <= high[i])
            cover += ok
            print(f"  {name:26s} {t:6.3f} {raw.get(name, 0.0):6.3f} {point[i]:6.3f} [{low[i]:.3f}, {high[i]:.3f}]"
                  f"{'' if ok else '  miss'}")
        print(f"  the gold share inside the interval: {cover} of {len(classes)}\n")
        total_cover += cover
        total += len(classes)
    print(f"overall: {total_cover} of {total} intervals hold the pool's gold share")


if __name__ == "__main__":
    main()
