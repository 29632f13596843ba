"""`stackmine text`, `classify` and `evaluate` through the CLI on a copy of the sample database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.cli.classify import classify_command
from flows.cli.evaluate import evaluate_command
from flows.cli.text import text_command


@pytest.mark.parametrize("command", [text_command, classify_command, evaluate_command])
def test_help_has_example_and_db(command) -> None:
    # The printed help, not command.help: once flows.cli._register() ran (other test modules call it
    # at import), the Example block has moved from the docstring to the epilog.
    output = CliRunner().invoke(command, ["--help"]).output
    assert "Example:" in output and f"stackmine {command.name}" in output
    assert "--db" in output
    assert ("--workers" in output) == (command is not evaluate_command)


@pytest.mark.slow
def test_text_classify_evaluate(sample_db_copy: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    gold = tmp_path / "gold.csv"
    # Three gold questions: 71079373 and 72219542 (train.csv) trained the layer, so they must be left
    # out of the scores and the header must say so; 72490941 (dev.csv) is in the held-out split.
    gold.write_text("site,post_id,platforms,ml,stage,stage2,note\n"
                    "stackoverflow.com,71079373,jupyter,no,none,,Jupyter output in two columns\n"
                    "stackoverflow.com,72219542,colab,yes,model-training,,Colab traceback; SGD regression shapes\n"
                    "stackoverflow.com,72490941,jupyter,no,none,,%matplotlib inline; scatter plot\n",
                    encoding="utf-8")
    before = runner.invoke(evaluate_command, ["--gold", str(gold), "--db", str(sample_db_copy)])
    assert before.exit_code != 0 and "run `stackmine text`" in str(before.exception)

    out = runner.invoke(text_command, ["--db", str(sample_db_copy), "--workers", "2"])  # a worker process
    assert out.exit_code == 0, out.output
    assert "question_text: 2,079 questions (all sites, text-v1)" in out.output

    out = runner.invoke(classify_command, ["--db", str(sample_db_copy), "--site", "stackoverflow.com"])
    assert out.exit_code == 0, out.output
    assert ("question_labels: 1,475 questions (stackoverflow.com, classify-1+platforms-v2+ml-v2+stages-v2"
            "+learned-lr-v2)") in out.output

    out = runner.invoke(evaluate_command, ["--gold", str(gold), "--db", str(sample_db_copy)])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == f"scores on {gold}: n=1 questions (ml=yes: 0)"
    assert lines[1] == ("note: 2 of these questions trained the learned-lr-v2 layer: left out of every score below; "
                        "1 are in the held-out split (heldout-ids.v1.csv): labelled by the shipped classifier, which "
                        "never saw them")
    assert lines[3].split() == ["label", "metric", "classifier", "rules", "tags-only", "keyword", "majority"]
    # tags-only finds no platform (72490941's only sign is %matplotlib inline in its code)
    assert lines[6].split() == ["R", "1.000", "1.000", "0.000", "1.000", "-"]
    assert lines[7].split() == ["F1", "1.000", "1.000", "0.000", "1.000", "-"]
    assert "classifier, held-out split, never trained on (n=1, ml=yes 0): notebook-any F1 1.000" in out.output
