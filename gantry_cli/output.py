"""`-o json|yaml|table`: json and yaml print the API's own data; table prints chosen columns for people."""

import json

import click
import yaml

FORMATS = ("table", "json", "yaml")

output_option = click.option("-o", "--output", "fmt", type=click.Choice(FORMATS), default="table",
                             show_default=True, help="How to print the result.")


def emit(data, fmt, table):
    """Print `data` as JSON or YAML, or call `table()` for the table lines."""
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif fmt == "yaml":
        click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)
    else:
        for line in table():
            click.echo(line)


def table_lines(headers, rows):
    """Columns padded to their widest cell, as kubectl prints them; None shows as `-`."""
    cells = [[("-" if value is None else str(value)) for value in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        yield "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()


def deployment_row(d):
    status = d["status"]
    return [d["name"], d["team"], d["workload"], status["phase"], f"{status['ready_pods']}/{status['total_pods']}",
            d.get("revision"), d.get("gpu_class") or None, d.get("region") or None]


DEPLOYMENT_HEADERS = ("NAME", "TEAM", "WORKLOAD", "STATUS", "READY", "REVISION", "GPU", "REGION")
