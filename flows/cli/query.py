"""`stackmine query`: run one named analysis from queries/ on a read-only connection."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.core import queries
from flows.cli.options import db_option, wait_option


@click.command("query")
@click.argument("name", required=False)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Set a query parameter (repeatable).")
@click.option("--format", "fmt", type=click.Choice(queries.FORMATS), default="table", show_default=True,
              help="How to print the result (parquet needs --out).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--list", "list_only", is_flag=True, help="List the queries with their titles and parameters.")
@db_option
@wait_option
def query_command(name: str | None, params: tuple[str, ...], fmt: str, out: Path | None, list_only: bool, db_path: Path,
                  wait_seconds: float) -> None:
    """Run the analysis NAME (a file queries/NAME.sql) and print or save its result.

    The database is opened read-only with file access switched off: a query cannot change it.
    Parameters default to the values in the file's header, exactly as in the DuckDB CLI.

    \b
    Example:
      stackmine query --list
      stackmine query platform_questions_per_year --param min_year=2015 --format csv
    """
    if list_only:
        for q in queries.list_queries():
            extra = " ".join(f"[{p.name}={p.default}]" for p in q.params)
            click.echo(f"{q.name:<34} {q.title}" + (f"  {extra}" if extra else ""))
        return
    if not name:
        raise click.UsageError("give a query NAME, or --list to see them")
    query = queries.load_query(name)
    values = queries.parse_param_args(query, params)
    con = queries.open_read_only(db_path, wait_seconds)
    try:
        table = queries.run_query(con, query, values)
    finally:
        con.close()
    if fmt == "parquet" and out is None:
        raise click.UsageError("--format parquet needs --out FILE")
    data = queries.render(table, fmt)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        click.echo(f"wrote {table.num_rows} rows to {out}", err=True)


COMMANDS = [query_command]
