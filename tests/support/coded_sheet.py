"""The hand-coded blind sheet of tests/data/evaluate/coded_sheet.csv and the classifier labels its
hand-computed agreement figures assume (tests/evaluate/test_coded_sheet.py shows the calculation).

The sheet holds 12 real questions of data/sample/stackoverflow.com as `stackmine export --sample`
writes them, coded by hand for two coders. `coded_copy` copies a study database and sets the stored
labels of those 12 questions to CLASSIFIER, so every agreement figure is known exactly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support import TEST_DATA

SHEET = TEST_DATA / "evaluate" / "coded_sheet.csv"
SITE = "stackoverflow.com"
# post_id: (platforms, ml, stage) the "classifier" gives each question of the sheet.
CLASSIFIER = {
    71119326: (["jupyter"], True, "environment"), 70744256: (["colab"], True, "model-training"),
    74906232: ([], True, "feature-engineering"), 72341470: (["jupyter"], True, "feature-engineering"),
    73290699: ([], True, "model-evaluation"), 73569197: ([], True, "model-evaluation"),
    72626523: ([], False, "none"), 73107184: ([], False, "none"), 74966513: (["colab"], False, "none"),
    73638367: ([], True, "model-training"), 74938099: ([], True, "problem-formulation"),
    71283626: (["jupyter"], True, "data-preparation"),
}
# The sheet's questions as a --where over question_labels (l): an export of exactly them.
WHERE = f"l.post_id IN ({', '.join(str(i) for i in sorted(CLASSIFIER))})"


def coded_copy(study_db: Path, dest: Path) -> Path:
    """A copy of `study_db` at `dest` whose labels of the sheet's questions are CLASSIFIER."""
    import duckdb

    shutil.copyfile(study_db, dest)
    con = duckdb.connect(str(dest))
    try:
        for post_id, (platforms, ml, stage) in CLASSIFIER.items():
            con.execute("UPDATE question_labels SET platforms = ?, notebook = ?, ml = ?, stage = ?, stage2 = NULL "
                        "WHERE site = ? AND post_id = ?", [platforms, bool(platforms), ml, stage, SITE, post_id])
    finally:
        con.close()
    return dest
