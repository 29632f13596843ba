"""stackmine: mine Stack Exchange dumps for what practitioners ask about notebooks and the ML lifecycle.

Each stage is a module of plain functions over an explicit DuckDB connection:
acquire → ingest → text → classify → topics → stages → export / report.
"""

__version__ = "0.1.0"

# Stored with every ingested file (dumps.pipeline_version); bump when parsing or the dump
# tables change, so cached results keyed on it are recomputed.
PIPELINE_VERSION = "ingest-2"  # 2: `&amp;` stored as `&` (ingest-1 stored `&#38;`)
