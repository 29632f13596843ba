"""notebooks/explore_stackmine.ipynb runs from top to bottom on the sample (study database, its
export), in a real Jupyter kernel, so the example a researcher starts from never rots."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.cli import _register, cli
from tests.support import REPO

NOTEBOOK = REPO / "notebooks" / "explore_stackmine.ipynb"


@pytest.mark.slow
def test_the_example_notebook_runs(study_db_path: Path, tmp_path: Path) -> None:
    import nbclient
    import nbformat

    db = tmp_path / "stackmine.duckdb"
    shutil.copyfile(study_db_path, db)
    _register()
    done = CliRunner().invoke(cli, ["export", "practice-mining", "--db", str(db), "--out", str(tmp_path / "exports")])
    assert done.exit_code == 0, done.output
    nb = nbformat.read(NOTEBOOK, as_version=4)
    [parameters] = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    parameters.source = (f"from pathlib import Path\nREPO = Path({str(REPO)!r})\nDB = Path({str(db)!r})\n"
                         f"EXPORT = Path({str(tmp_path / 'exports' / 'practice-mining')!r})")
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    outputs = {i: c.outputs for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    errors = [o for cell in outputs.values() for o in cell if o.output_type == "error"]
    assert errors == []
    images = [o for cell in outputs.values() for o in cell if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the stage-coverage figure and the topic figure
    text = "".join(o.get("text", "") for cell in outputs.values() for o in cell)
    assert "67 questions" in text  # the export read back with pandas
    assert all(c.cell_type != "code" or not c.outputs or c.execution_count for c in nb.cells)


def test_the_committed_notebook_has_no_outputs() -> None:
    """Outputs are made by running it (CI does); committed outputs would go stale and bloat diffs."""
    import json

    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    assert [c.get("outputs") for c in cells if c["cell_type"] == "code"] == [[] for c in cells if c["cell_type"] == "code"]
