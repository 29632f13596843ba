#!/usr/bin/env python3
"""Write the held-out split of the gold questions: data/gold/heldout-ids.v1.csv.

Usage: .venv/bin/python scripts/split_gold.py [--check]

Run once, before any model was fitted; the file is then data. `--check` recomputes the split from
the bundled gold files and fails if the committed file differs (the split is a pure function of the
gold labels, the pools and pipeline.evaluate.split.SEED).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = parser.parse_args()
    from pipeline.evaluate.corpus import SPLIT, load_gold_corpus
    from pipeline.evaluate.split import held_out, read_split, stratum, write_split

    corpus = load_gold_corpus()
    chosen = set(held_out((q.site, q.post_id, stratum(q)) for q in corpus))
    rows = [(q.site, q.post_id, stratum(q)[0], q.stage) for q in corpus if q.key in chosen]
    if args.check:
        same = read_split(SPLIT) == chosen
        print(f"{SPLIT.name}: {'matches' if same else 'DIFFERS FROM'} the recomputed split ({len(chosen)} questions)")
        sys.exit(0 if same else 1)
    write_split(SPLIT, rows)
    print(f"wrote {SPLIT} ({len(rows)} of {len(corpus)} questions): by pool {dict(Counter(r[2] for r in rows))}, "
          f"ml=yes {sum(r[3] != 'none' for r in rows)}")


if __name__ == "__main__":
    main()
