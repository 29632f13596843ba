"""`stackmine text`, `classify` and `evaluate` through the CLI on a copy of the sample database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.commands.classify import classify_command
from pipeline.commands.evaluate import evaluate_command
from pipeline.commands.text import text_command


@pytest.mark.parametrize("command", [text_command, classify_command, evaluate_command])
def test_help_has_example_and_db(command) -> None:
    assert "Example:" in command.help and f"stackmine {command.name}" in command.help
    assert "--db" in CliRunner().invoke(command, ["--help"]).output


def test_text_classify_evaluate(sample_db_copy: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    gold = tmp_path / "gold.csv"
    gold.write_text("site,post_id,platforms,ml,stage,stage2,note\n"
                    "stackoverflow.com,72490941,jupyter,no,none,,%matplotlib inline; scatter plot\n"
                    "stackoverflow.com,71341856,colab,yes,model-training,,Colab traceback; Keras layer shape\n",
                    encoding="utf-8")
    before = runner.invoke(evaluate_command, ["--gold", str(gold), "--db", str(sample_db_copy)])
    assert before.exit_code != 0 and "run `stackmine text`" in str(before.exception)

    out = runner.invoke(text_command, ["--db", str(sample_db_copy)])
    assert out.exit_code == 0, out.output
    assert "question_text: 2,079 questions (all sites, text-v1)" in out.output

    out = runner.invoke(classify_command, ["--db", str(sample_db_copy), "--site", "stackoverflow.com"])
    assert out.exit_code == 0, out.output
    assert "question_labels: 1,475 questions (stackoverflow.com, classify-1+platforms-v1+ml-v1+stages-v1)" in out.output

    out = runner.invoke(evaluate_command, ["--gold", str(gold), "--db", str(sample_db_copy)])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == f"scores on {gold}: n=2 questions (ml=yes: 1)"
    assert lines[2].split() == ["label", "metric", "rules", "tags-only", "keyword", "majority"]
    # tags-only finds neither (no platform tag on them): precision of no predictions is reported as 0
    assert lines[4].split() == ["notebook-any", "(2)", "P", "1.000", "0.000", "1.000", "-"]
