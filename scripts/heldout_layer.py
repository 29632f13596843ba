#!/usr/bin/env python3
"""Score the shipped classifier on the held-out split of the gold questions, beside the rules alone.

Usage: .venv/bin/python scripts/heldout_layer.py

The held-out questions (data/gold/heldout-ids.v1.csv, 20% of dev.csv + train.csv per pool and
stage) were never used to fit the trained layer or to choose anything about it; their figures were
looked at once, at the end (README, "Classifier quality"). They are labelled here exactly as
`stackmine classify` labels them (text parsed as `stackmine text` does, from the bundled sources),
beside the current rule files alone, for all 418, for the dev.csv pool and for the other pools. The
rules were written while looking at dev.csv, so the dev-pool lines of the rules (and of the layer,
which reads rule hits) lean optimistic. scripts/record_evaluation.py records the same figures.
"""

from __future__ import annotations


def lines(name: str, gold: list, labels: list) -> list[str]:
    """ml, notebook-any and stage figures of one method."""
    from pipeline.evaluate.scoring import binary_scores, stage_or_second, stage_scores

    scores = binary_scores(gold, labels)
    accuracy, macro, n = stage_scores(gold, labels)
    out = [f"{name} (n={len(gold)}, gold ml=yes {n})"]
    for label in ("notebook-any", "ml"):
        s = scores[label]
        out.append(f"  {label:<13} F1 {s.f1:.3f}  P {s.precision:.3f}  R {s.recall:.3f}  (gold {s.tp + s.fn})")
    out.append(f"  stage         accuracy {accuracy:.3f}  stage-or-stage2 {stage_or_second(gold, labels):.3f}  "
               f"macro-F1 {macro:.3f}")
    return out


def main() -> None:
    from pipeline.classify.classifier import Classifier
    from pipeline.core.paths import GOLD
    from pipeline.evaluate.baselines import Guess
    from pipeline.evaluate.corpus import GOLD_FILES, load_gold_corpus
    from pipeline.evaluate.gold import Method, read_gold
    from pipeline.evaluate.scoring import report
    from pipeline.evaluate.split import read_split

    held = read_split()
    gold = [g for name in GOLD_FILES for g in read_gold(GOLD / name) if (g.site, g.post_id) in held]
    dev = {(g.site, g.post_id) for g in read_gold(GOLD / "dev.csv")}
    classifier = Classifier()
    assert not held & classifier.model.training_ids(), "a held-out question trained the shipped model"
    rules = Classifier(rules=classifier.rules, learned=False)
    texts = {q.key: q.question for q in load_gold_corpus() if q.key in held}
    questions = [texts[(g.site, g.post_id)] for g in gold]
    layer, by_rules = classifier.label_many(questions), rules.label_many(questions)
    print(f"held-out split: {len(gold)} questions, {classifier.version}")
    for part, keep in (("all", lambda key: True), ("dev.csv pool", lambda key: key in dev),
                       ("other pools", lambda key: key not in dev)):
        rows = [i for i, g in enumerate(gold) if keep((g.site, g.post_id))]
        print(f"\n== {part} ==")
        print("\n".join(lines("classifier (rules + trained layer)", [gold[i] for i in rows], [layer[i] for i in rows])))
        print("\n".join(lines("rules alone", [gold[i] for i in rows], [by_rules[i] for i in rows])))
    guesses = [Guess(one.platforms, one.ml, one.stage, one.stage2,
                     one.p_ml if one.p_ml is not None else classifier.unasked_p_ml, one.p_stage) for one in layer]
    print("\n" + report("the held-out split (all 418)", gold, [Method("classifier", guesses)]))


if __name__ == "__main__":
    main()
