"""Default locations under data/, in one light module so the CLI can show them without importing
the stages that use them."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

DEFAULT_DB = Path("data/stackmine.duckdb")
DEFAULT_EXPORTS = Path("data/exports")
DEFAULT_REPORT = Path("data/report")

# The bundled real sample (CC BY-SA, see its README): what `stackmine run` mines by default.
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"

# The bundled gold labels (CC BY-SA, see its README), the held-out split and the text the labels
# refer to that the sample lacks: what `stackmine evaluate` and scripts/train_classifier.py read.
GOLD = SAMPLE.parent / "gold"


def dump_source(site: str, source: str | Path) -> str:
    """A dump file's path as `dumps.source` keeps it: from the site's own folder down
    (`stackoverflow.com/data-science-questions-2022.csv`, `ai.stackexchange.com/Posts.xml`), or the
    archive's name (`ai.stackexchange.com.7z`); never a local absolute path.

    What a reader can find again is the file within the dump; where it lay on the machine that
    ingested it says nothing to anyone else and leaks that machine's folder names into every export
    and shared database. Applying it to its own result changes nothing.
    """
    text = str(source)
    pure = PureWindowsPath(text) if "\\" in text and "/" not in text else PurePosixPath(text)
    parts = pure.parts
    folders = [i for i, part in enumerate(parts[:-1]) if part == site]
    return "/".join(parts[folders[-1]:]) if folders else parts[-1] if parts else text
