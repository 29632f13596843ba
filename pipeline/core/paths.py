"""Default locations under data/, in one light module so the CLI can show them without importing
the stages that use them."""

from __future__ import annotations

from pathlib import Path

DEFAULT_DB = Path("data/stackmine.duckdb")
DEFAULT_EXPORTS = Path("data/exports")
DEFAULT_REPORT = Path("data/report")

# The bundled real sample (CC BY-SA, see its README): what `stackmine run` mines by default.
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"

# The bundled gold labels (CC BY-SA, see its README), the held-out split and the text the labels
# refer to that the sample lacks: what `stackmine evaluate` and scripts/train_classifier.py read.
GOLD = SAMPLE.parent / "gold"
