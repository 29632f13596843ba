"""The interactive topic views: positions from distances, and the named queries they are drawn from
agree with the tables."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipeline.core import queries
from pipeline.publish import topicviews


def test_classical_mds_recovers_a_known_layout() -> None:
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    distances = np.linalg.norm(square[:, None] - square[None, :], axis=2)
    coords = topicviews.classical_mds(distances)
    assert np.allclose(np.linalg.norm(coords[:, None] - coords[None, :], axis=2), distances)
    assert topicviews.classical_mds(np.zeros((1, 1))).shape == (1, 2)  # one topic: a point


def test_a_view_that_would_not_parse_in_the_browser_fails_here() -> None:
    import plotly.graph_objects as go

    with pytest.raises(ValueError):
        topicviews._json(go.Figure(layout={"width": float("inf")}))


def test_views_say_why_they_are_empty() -> None:
    made = topicviews.views([], [], [])
    assert [v.slug for v in made] == ["topic-barchart", "topic-distance-map", "topic-hierarchy",
                                      "topics-over-time-interactive", "topics-per-platform"]
    assert all("stackmine topics" in v.spec or "at least two" in v.spec or "no notebook" in v.spec for v in made)


def test_the_view_queries_agree_with_the_tables(study_db_path: Path) -> None:
    con = queries.open_read_only(study_db_path)
    terms = queries.run_query(con, queries.load_query("topic_terms")).to_pylist()
    per_platform = queries.run_query(con, queries.load_query("topics_per_platform")).to_pylist()
    con.close()
    raw = duckdb.connect(str(study_db_path), read_only=True)
    n_topics = raw.execute("SELECT n_topics FROM topic_models").fetchone()[0]
    memberships = raw.execute(
        "SELECT count(*) FROM question_topics q JOIN question_labels l USING (site, post_id), unnest(l.platforms) "
        "WHERE q.topic_id >= 0").fetchone()[0]
    raw.close()
    assert [t["topic_id"] for t in terms] == list(range(n_topics))
    assert all(len(t["terms"]) == len(t["weights"]) == 10 for t in terms)
    assert sum(r["questions"] for r in per_platform) == memberships
    for platform in {r["platform"] for r in per_platform}:
        assert sum(r["platform_share"] for r in per_platform if r["platform"] == platform) == pytest.approx(1, abs=1e-3)
