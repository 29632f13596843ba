"""Which questions a study looks at: one filter shared by topics, stages and export.

A selection turns into a parameterised WHERE clause over `question_labels` (alias `l`) joined to
`question_text` (alias `t`), so every stage that takes a selection picks exactly the same rows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Selection:
    """Filters on labelled questions; `None` means "do not filter on this".

    The default (notebook questions that are ML) is the population the study is about.
    `where` is an extra SQL condition for the rare filter the fields cannot express; it runs
    against the same aliases (`t`, `l`).
    """

    sites: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    notebook: bool | None = True
    ml: bool | None = True
    year_from: int | None = None
    year_to: int | None = None
    where: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def sql(self) -> tuple[str, list]:
        """Return (`WHERE ...` text, parameters) for DuckDB's `?` placeholders."""
        clauses: list[str] = ["TRUE"]
        params: list = []
        if self.sites:
            clauses.append("l.site IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(self.sites))
        if self.platforms:
            clauses.append("list_has_any(l.platforms, ?::VARCHAR[])")
            params.append(list(self.platforms))
        if self.notebook is not None:
            clauses.append("l.notebook = ?")
            params.append(self.notebook)
        if self.ml is not None:
            clauses.append("l.ml = ?")
            params.append(self.ml)
        if self.year_from is not None:
            clauses.append("year(t.creation_date) >= ?")
            params.append(self.year_from)
        if self.year_to is not None:
            clauses.append("year(t.creation_date) <= ?")
            params.append(self.year_to)
        if self.where:
            clauses.append(f"({self.where})")
        return "WHERE " + " AND ".join(clauses), params

    def describe(self) -> str:
        """Stable JSON of the filter, stored with models and exports for provenance."""
        data = {k: v for k, v in asdict(self).items() if k != "extra"}
        data["sites"] = list(self.sites)
        data["platforms"] = list(self.platforms)
        return json.dumps(data, sort_keys=True)


# The FROM clause every selection runs against; stages add their own columns to the SELECT.
SELECTED_FROM = "question_labels AS l JOIN question_text AS t USING (site, post_id)"


def selected_questions_sql(selection: Selection, columns: str = "l.site, l.post_id") -> tuple[str, list]:
    """A complete SELECT of `columns` for the questions in `selection`, ordered for reproducibility."""
    where, params = selection.sql()
    return f"SELECT {columns} FROM {SELECTED_FROM} {where} ORDER BY l.site, l.post_id", params
