"""stackmine: mine Stack Exchange dumps for what practitioners ask about notebooks and the ML lifecycle.

One package per pipeline step, each a set of plain functions over an explicit DuckDB connection,
with its SQL and rules beside its code: acquire → ingest → text → classify → topics → coverage
(the `stages` step) → publish (export, report); evaluate scores classify against gold labels.
`pipeline.core` holds what every step shares; `pipeline.steps` lists the steps in order.
"""

__version__ = "0.1.0"
