"""The codebook's label values (codebook v1), defined once for every stage, query and report.

Labels are exactly the codebook's words, so gold files, stored labels, queries and reports agree.
The codebook itself is written up in the repository's docs; these tuples are its machine form.
"""

from __future__ import annotations

# §1: interactive computing platforms, in the codebook's order.
PLATFORMS = ("jupyter", "colab", "kaggle", "databricks", "vscode", "sagemaker", "other")

# §3: the ML-lifecycle stages, in the codebook's order (tables and figures list them so).
STAGES = (
    "problem-formulation", "data-collection", "data-preparation", "data-labelling", "feature-engineering",
    "model-training", "model-evaluation", "fairness-bias", "interpretability", "documentation-provenance",
    "pretrained-reuse", "deployment", "monitoring", "privacy-security", "environment",
)

# The stage of a question that is not about ML.
NO_STAGE = "none"
