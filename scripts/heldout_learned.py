"""Held-out estimate of the classifier with its trained layer: frozen rules + layer, unseen questions.

Why: the current rules were tuned on all 300 dev questions, so no score of theirs on dev.csv is
held-out, and neither is that of a layer fitted on their hits. The rules frozen at b62cdfd were
written on the even post ids only, so the odd half is unseen by them. This estimate fits the
trained ml layer (pipeline/learned_fit.py, unchanged) on the frozen rules' hits of the even half plus
four fifths of the odd half, predicts the remaining fifth, and repeats over five folds and five
seeds: every odd question is predicted by rules and a layer that never saw it. Beside it, the frozen
rules alone on the same odd questions (the estimate of scripts/heldout_estimate.sh).

Two steps, run by scripts/heldout_learned.sh:
  --dump OUT    (under the frozen tree's PYTHONPATH) rule hits, tokens and tags of every dev question;
  --dumped IN   (under this tree) fit, predict and print; --record adds rows to classifier_metrics.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOLD = REPO.parent / "shared" / "gold" / "dev.csv"
SEDE = REPO / "data" / "sample" / "stackoverflow.com" / "data-science-questions-2022.csv"
SEEDS = range(5)


def dump(gold_path: Path, out: Path) -> None:
    """Frozen rules' view of every gold question (only APIs the frozen tree has)."""
    from pipeline.classify.classifier import Classifier
    from pipeline.classify.decide import decide_stage
    from pipeline.classify.lexicon import TOKEN_RE
    from pipeline.text.extract import parse_body, title_text

    csv.field_size_limit(1 << 30)
    gold = list(csv.DictReader(open(gold_path, encoding="utf-8")))
    wanted = {int(g["post_id"]) for g in gold}
    with open(SEDE, newline="", encoding="utf-8-sig") as handle:
        posts = {int(r["Id"]): r for r in csv.DictReader(handle) if int(r["Id"]) in wanted}
    classifier = Classifier()
    with open(out, "w", encoding="utf-8") as sink:
        for g in gold:
            post = posts[int(g["post_id"])]
            tags = [t for t in post["Tags"].strip("<>|").replace("><", "|").split("|") if t]
            title, body = title_text(post["Title"]), parse_body(post["Body"])
            hits = classifier.scanner.scan(title, body.prose, list(body.inline_code), body.code, tags)
            labels = classifier.label(title, body.prose, list(body.inline_code), body.code, tags)
            # the rules' ml score as decide_ml sums it (the frozen file has no tag weights: tags
            # then weigh like any place, strong 2 / weak 1, which is what the frozen decide_ml did)
            spec, score = classifier.rules.raw["ml"], {}
            for h in (h for h in hits if h.family == "ml"):
                weight = {"strong": 2, "weak": 1}[h.strength] if h.place != "tags" else (
                    spec.get("weak_tag_weight", 1) if h.strength == "weak" else spec.get("strong_tag_weight", 2))
                score[h.term.lower()] = max(score.get(h.term.lower(), 0), weight)
            stage_hits = [h for h in hits if h.family == "stages"]
            try:  # the rules' stage even where their ml says no (the layer may say yes)
                ranked = decide_stage(stage_hits, classifier.rules, [h for h in hits if h.family == "shape"])
            except TypeError:  # frozen decide_stage has no shape argument
                ranked = decide_stage(stage_hits, classifier.rules)
            sink.write(json.dumps({"site": g["site"], "post_id": int(g["post_id"]), "hits": [list(h) for h in hits],
                                   "title": TOKEN_RE.findall(title.lower()),
                                   "present": sorted(classifier.scanner.lexicon_words.intersection(
                                       TOKEN_RE.findall(f"{title}\n{body.prose}\n{' ; '.join(body.inline_code)}".lower()))),
                                   "tags": tags, "rule_ml": labels.ml, "rule_stage": labels.stage,
                                   "rule_stage_any": ranked[0], "rule_ml_score": sum(score.values())}) + "\n")


def estimate(gold_path: Path, dumped: Path) -> dict:
    """Out-of-fold scores on the odd half, per seed, for the layer and for the frozen rules."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from pipeline.evaluate.gold import read_gold
    from pipeline.classify.decide import CONFIDENT_ML_SCORE
    from pipeline.classify.learned import LearnedModel, applies_to, question_features
    from pipeline.classify.learned_fit import COMMON_STAGES, Example, fit
    from pipeline.classify.lexicon import Hit

    gold = {(g.site, g.post_id): g for g in read_gold(gold_path)}
    rows = [json.loads(line) for line in dumped.read_text(encoding="utf-8").splitlines()]
    examples, rules = [], []
    for r in rows:
        g = gold[(r["site"], r["post_id"])]
        features = question_features([Hit(*h) for h in r["hits"]], r["title"], r["present"], r["tags"])
        examples.append(Example(g.site, g.post_id, features, g.ml, g.stage if g.ml else "none"))
        rules.append((r["rule_ml"], r["rule_stage"], r["rule_stage_any"], r["rule_ml_score"]))
    even = [i for i, e in enumerate(examples) if e.post_id % 2 == 0]
    odd = np.array([i for i, e in enumerate(examples) if e.post_id % 2 == 1])
    strata = [examples[i].stage if examples[i].stage in COMMON_STAGES + ("none",) else "rare" for i in odd]
    runs = []
    for seed in SEEDS:
        predicted = {}
        for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(odd, strata):
            model = LearnedModel(fit([examples[i] for i in even + odd[train].tolist()], "held-out", {}))
            # the shipped gate (pipeline.decide.layer_applies): an ML term, and the rules not sure
            chosen = [i for i in odd[test] if applies_to(examples[i].features) and rules[i][3] < CONFIDENT_ML_SCORE]
            for i, p in zip(chosen, model.predict_features([examples[i].features for i in chosen])):
                predicted[i] = (p.ml, "none")
        runs.append([predicted.get(i, (rules[i][0] if rules[i][3] >= CONFIDENT_ML_SCORE else False, "none"))
                     for i in odd])
    with_rule_stage = [[(ml, rules[i][2] if ml else "none") for i, (ml, _st) in zip(odd, run)] for run in runs]
    return {"odd": [examples[i] for i in odd], "runs_rule_stage": with_rule_stage, "rules": [rules[i][:2] for i in odd]}


def scores(examples, labels) -> dict:
    from pipeline.evaluate.scoring import prf

    s = prf([(e.ml, ml) for e, (ml, _st) in zip(examples, labels)])
    pairs = [(e.stage, st) for e, (_ml, st) in zip(examples, labels) if e.ml]
    labs = sorted({a for a, _ in pairs} | {b for _, b in pairs})
    macro = sum(prf([(a == x, b == x) for a, b in pairs]).f1 for x in labs) / len(labs)
    return {"ml": s, "stage_acc": sum(a == b for a, b in pairs) / len(pairs), "stage_macro": macro, "n_ml": len(pairs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--dumped", type=Path)
    parser.add_argument("--record", type=Path, help="classifier_metrics.csv to add the seed-0 rows to")
    args = parser.parse_args()
    if args.dump:
        dump(args.gold, args.dump)
        return
    import numpy as np

    found = estimate(args.gold, args.dumped)
    odd, rules = found["odd"], scores(found["odd"], found["rules"])
    hybrid = [scores(odd, run) for run in found["runs_rule_stage"]]
    print(f"dev.csv odd post ids: n={len(odd)} (ml=yes {rules['n_ml']}); frozen rules b62cdfd (written on the even half)")
    print(f"{'':34}{'ml P':>8}{'ml R':>8}{'ml F1':>8}{'stage acc':>11}{'macro-F1':>10}")
    for name, s in (("frozen rules alone", [rules]), ("layer: ml; rules: stage (shipped)", hybrid)):
        mean = lambda f: np.mean([f(x) for x in s])  # noqa: E731
        print(f"{name:34}{mean(lambda x: x['ml'].precision):8.3f}{mean(lambda x: x['ml'].recall):8.3f}"
              f"{mean(lambda x: x['ml'].f1):8.3f}{mean(lambda x: x['stage_acc']):11.3f}{mean(lambda x: x['stage_macro']):10.3f}")
    print(f"(layer: mean of {len(hybrid)} seeds of 5-fold over the odd half, trained on even + 4/5 odd; shipped: "
          f"ml F1 range {min(x['ml'].f1 for x in hybrid):.3f}-{max(x['ml'].f1 for x in hybrid):.3f}, "
          f"stage acc range {min(x['stage_acc'] for x in hybrid):.3f}-{max(x['stage_acc'] for x in hybrid):.3f})")
    if args.record:
        record(args.record, hybrid[0])  # what ships: the layer decides ml, the rules the stage


def record(target: Path, s: dict) -> None:
    """Seed-0 rows of the layer's estimate under the current classifier version (rows kept otherwise)."""
    from pipeline.classify.classifier import CLASSIFIER_VERSION
    from pipeline.evaluate.record import COLUMNS, HELDOUT_LEARNED, _row, to_csv

    rows = [_row(CLASSIFIER_VERSION, HELDOUT_LEARNED, "ml", s["ml"].precision, s["ml"].recall, s["ml"].f1,
                 s["ml"].tp + s["ml"].fn),
            _row(CLASSIFIER_VERSION, HELDOUT_LEARNED, "stage (accuracy; macro-F1)", s["stage_acc"], None,
                 s["stage_macro"], s["n_ml"])]
    old = list(csv.DictReader(target.open(encoding="utf-8"))) if target.is_file() else []
    kept = [r for r in old if r["classifier_version"] != CLASSIFIER_VERSION or r["gold_set"] != HELDOUT_LEARNED]
    target.write_text(to_csv([{k: r[k] for k in COLUMNS} for r in kept] + rows), encoding="utf-8")
    print(f"recorded {len(rows)} rows for {CLASSIFIER_VERSION} in {target}")


if __name__ == "__main__":
    main()
