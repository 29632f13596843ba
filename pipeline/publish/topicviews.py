"""The topic views researchers know from BERTopic, as interactive plotly figures for the report.

BERTopic draws them from a fitted model object (`visualize_barchart`, `visualize_topics`,
`visualize_hierarchy`, `visualize_topics_over_time`, `visualize_topics_per_class`). Here they are
derived from the stored tables, through named queries, for three reasons: the report only reads the
database (the chain does not keep the fitted model: `stackmine topics` saves one only when asked),
importing BERTopic costs seconds and its model would have to match the tables exactly, and a view
drawn from a query can be redrawn by anyone with `stackmine query`. The price: the distance map and
the hierarchy use each topic's stored top-term c-TF-IDF weights (`topics.terms`, `weights`, ten
terms) where BERTopic uses the full c-TF-IDF matrix (and UMAP for the map; here classical
multidimensional scaling, which is deterministic).

Each view is a plotly figure as JSON; the page draws it with plotly.js embedded in the page, so it
works offline (pipeline/publish/templates/report.html.j2).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

HEIGHT = 460
LAYOUT = {"template": "plotly_white", "height": HEIGHT, "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
          "font": {"size": 11}}


@dataclass(frozen=True)
class View:
    """One interactive view: `slug` names its element in the page; `spec` is the plotly JSON."""

    slug: str
    title: str
    caption: str
    spec: str

    @property
    def safe_spec(self) -> str:
        """The JSON, safe inside a <script> element (labels are words from user posts)."""
        return self.spec.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _json(fig: go.Figure) -> str:
    # allow_nan=False: JSON.parse in the page rejects NaN and Infinity, and the view would stay blank
    return json.dumps(fig.to_plotly_json(), sort_keys=True, separators=(",", ":"), default=_plain, allow_nan=False)


def _plain(value: object) -> object:
    return value.tolist() if isinstance(value, np.ndarray) else str(value)


def _empty(title: str, message: str) -> go.Figure:
    """A view that says why it is empty (still drawn, so the check can tell it from a broken one)."""
    fig = go.Figure(go.Scatter(x=[0], y=[0], mode="text", text=[message], hoverinfo="skip"))
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False}, **{**LAYOUT, "height": 200})
    return fig


def barchart(terms: list[dict], top_terms: int = 5, columns: int = 4) -> go.Figure:
    """BERTopic's topic bar chart: per topic, its top terms by c-TF-IDF weight (query topic_terms)."""
    if not terms:
        return _empty("Topic word scores", "no topic model fitted: run `stackmine topics` first")
    rows = -(-len(terms) // columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[t["label"] for t in terms],
                        horizontal_spacing=0.12, vertical_spacing=0.4 / rows)
    for i, t in enumerate(terms):
        words, weights = t["terms"][:top_terms][::-1], t["weights"][:top_terms][::-1]
        fig.add_trace(go.Bar(x=weights, y=words, orientation="h", name=t["label"], showlegend=False,
                             hovertemplate="%{y}: %{x:.4f}<extra>" + t["label"] + "</extra>"),
                      row=i // columns + 1, col=i % columns + 1)
    fig.update_layout(title="Topic word scores (c-TF-IDF)", **{**LAYOUT, "height": 240 * rows + 80})
    fig.update_annotations(font_size=10)
    return fig


def topic_vectors(terms: list[dict]) -> np.ndarray:
    """One row per topic over the union of their stored terms: c-TF-IDF weights, L2-normalised."""
    vocabulary = sorted({w for t in terms for w in t["terms"]})
    index = {w: i for i, w in enumerate(vocabulary)}
    matrix = np.zeros((len(terms), len(vocabulary)))
    for row, t in enumerate(terms):
        for word, weight in zip(t["terms"], t["weights"]):
            matrix[row, index[word]] = weight
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def classical_mds(distances: np.ndarray, dims: int = 2) -> np.ndarray:
    """Torgerson's classical MDS: coordinates whose Euclidean distances best match `distances`.
    Deterministic (an eigen-decomposition; signs fixed so the largest coordinate is positive)."""
    n = len(distances)
    centre = np.eye(n) - np.ones((n, n)) / n
    gram = -0.5 * centre @ (distances ** 2) @ centre
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1][:dims]
    coords = vectors[:, order] * np.sqrt(np.clip(values[order], 0, None))
    signs = np.sign(coords[np.abs(coords).argmax(axis=0), range(coords.shape[1])])
    coords = coords * np.where(signs == 0, 1, signs)
    return np.pad(coords, ((0, 0), (0, dims - coords.shape[1])))


def distance_map(terms: list[dict]) -> go.Figure:
    """BERTopic's intertopic distance map: topics placed by the similarity of their terms, bubble
    area by size (query topic_terms)."""
    if not terms:
        return _empty("Intertopic distance map", "no topic model fitted: run `stackmine topics` first")
    vectors = topic_vectors(terms)
    coords = classical_mds(np.clip(1 - vectors @ vectors.T, 0, 2))
    sizes = np.array([t["size"] for t in terms], dtype=float)
    fig = go.Figure(go.Scatter(
        x=coords[:, 0].round(6).tolist(), y=coords[:, 1].round(6).tolist(), mode="markers+text",
        text=[str(t["topic_id"]) for t in terms],
        marker={"size": (12 + 48 * np.sqrt(sizes / sizes.max())).round(2).tolist(), "color": "#74c0fc", "opacity": 0.7,
                "line": {"color": "#1c7ed6", "width": 1}},
        customdata=[[t["label"], t["size"], ", ".join(t["terms"][:5])] for t in terms],
        hovertemplate="%{customdata[0]}<br>%{customdata[1]} questions<br>%{customdata[2]}<extra></extra>"))
    fig.update_layout(title="Intertopic distance map", xaxis={"title": "dimension 1", "zeroline": True},
                      yaxis={"title": "dimension 2", "zeroline": True}, **LAYOUT)
    return fig


def hierarchy(terms: list[dict]) -> go.Figure:
    """BERTopic's topic hierarchy: average-linkage clustering of the topics' term vectors (cosine
    distance), as a dendrogram (query topic_terms)."""
    if len(terms) < 2:
        return _empty("Topic hierarchy", "a hierarchy needs at least two topics")
    import plotly.figure_factory as ff
    from scipy.cluster.hierarchy import linkage

    vectors = topic_vectors(terms)
    fig = ff.create_dendrogram(vectors, orientation="left", labels=[t["label"] for t in terms],
                               linkagefun=lambda x: linkage(x, method="average", metric="cosine"),
                               distfun=lambda x: x, color_threshold=0.0)
    fig.layout.width = None  # create_dendrogram sets an infinite width: let the page size it
    fig.update_layout(title="Topic hierarchy (average linkage, cosine distance of term weights)", autosize=True,
                      xaxis={"title": "distance"}, **{**LAYOUT, "height": max(300, 40 * len(terms) + 120),
                                                      "margin": {**LAYOUT["margin"], "l": 260}})
    return fig


def over_time(trends: list[dict]) -> go.Figure:
    """BERTopic's topics over time: questions per period per topic (query topic_trends)."""
    if not trends:
        return _empty("Topics over time", "no topics over time: run `stackmine topics` first")
    series: dict[str, dict[str, int]] = defaultdict(dict)
    for r in trends:
        series[r["label"]][r["period"]] = r["questions"]
    periods = sorted({r["period"] for r in trends})
    fig = go.Figure([go.Scatter(x=periods, y=[counts.get(p, 0) for p in periods], name=label,
                                mode="lines+markers" if len(periods) > 1 else "markers")
                     for label, counts in sorted(series.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))])
    fig.update_layout(title="Topics over time", xaxis={"title": "period", "type": "category"},
                      yaxis={"title": "questions"}, **LAYOUT)
    return fig


def per_class(rows: list[dict]) -> go.Figure:
    """BERTopic's topics per class, the class being the notebook platform: questions of each
    platform in each topic (query topics_per_platform)."""
    if not rows:
        return _empty("Topics per platform", "no notebook question has a topic yet")
    platforms = sorted({r["platform"] for r in rows})
    by_topic: dict[str, dict[str, int]] = defaultdict(dict)
    for r in rows:
        by_topic[r["label"]][r["platform"]] = r["questions"]
    fig = go.Figure([go.Bar(y=platforms, x=[counts.get(p, 0) for p in platforms], name=label, orientation="h")
                     for label, counts in sorted(by_topic.items())])
    fig.update_layout(title="Topics per platform", barmode="stack", xaxis={"title": "questions"},
                      yaxis={"title": "platform"}, **LAYOUT)
    return fig


def views(terms: list[dict], trends: list[dict], platforms: list[dict]) -> list[View]:
    """The report's five topic views, each from named queries."""
    made = [
        ("topic-barchart", "Topic word scores", barchart(terms),
         "Top five terms of each topic by c-TF-IDF weight, as BERTopic's visualize_barchart. Query: topic_terms."),
        ("topic-distance-map", "Intertopic distance map", distance_map(terms),
         "Topics placed by classical MDS of the cosine distances between their stored term weights; bubble "
         "area grows with topic size (BERTopic's visualize_topics uses the full c-TF-IDF matrix and UMAP). "
         "Query: topic_terms."),
        ("topic-hierarchy", "Topic hierarchy", hierarchy(terms),
         "Average-linkage clustering of the same term-weight vectors, as BERTopic's visualize_hierarchy. "
         "Query: topic_terms."),
        ("topics-over-time-interactive", "Topics over time, per topic", over_time(trends),
         "Questions per period per topic, as BERTopic's visualize_topics_over_time; click a legend entry to "
         "hide a topic. Query: topic_trends."),
        ("topics-per-platform", "Topics per platform", per_class(platforms),
         "Questions of each notebook platform per topic (a question on two platforms counts for both), as "
         "BERTopic's visualize_topics_per_class with the platform as the class. Query: topics_per_platform."),
    ]
    return [View(slug, title, caption, _json(fig)) for slug, title, fig, caption in made]


def plotly_js() -> str:
    """plotly.js itself (about 4.8 MB), to embed in the page: the report must open offline."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()
