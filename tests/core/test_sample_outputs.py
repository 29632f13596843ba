"""Every table the chain writes up to classify holds exactly the recorded values on the bundled sample
(tests/data/sample_outputs.txt, recorded before the packages were reorganised and rerecorded only
for intentional changes with scripts/sample_outputs.py --write)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.support import REPO


def _script():
    spec = importlib.util.spec_from_file_location("sample_outputs", REPO / "scripts" / "sample_outputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sample_tables_are_as_recorded(tmp_path: Path) -> None:
    script = _script()
    con = script.build(tmp_path / "sample.duckdb")
    try:
        assert script.digests(con) == script.MANIFEST.read_text(encoding="utf-8").splitlines()
    finally:
        con.close()
