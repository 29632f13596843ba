"""CITATION.cff is valid Citation File Format 1.2.0, names the version being released, and the README
points at it."""

from __future__ import annotations

import json
import tomllib

import jsonschema
import yaml

from pipeline import __version__
from tests.support import REPO, TEST_DATA


def test_citation_file_is_valid_cff_1_2_0_for_this_version() -> None:
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    schema = json.loads((TEST_DATA / "citation" / "schema-1.2.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(citation)
    assert citation["cff-version"] == "1.2.0"
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert citation["version"] == project["version"] == __version__
    assert citation["license"] == project["license"] == "MIT"
    assert citation["title"].startswith("stackmine")
    assert [r["title"] for r in citation["references"]] == ["Stack Exchange Data Dump"]


def test_an_invalid_citation_file_would_fail() -> None:
    schema = json.loads((TEST_DATA / "citation" / "schema-1.2.0.json").read_text(encoding="utf-8"))
    broken = {**yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8")), "authors": []}
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


def test_the_readme_points_at_it() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## License and citation", 1)[1]
    assert "[`CITATION.cff`](CITATION.cff)" in section
