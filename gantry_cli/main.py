"""The `gantry` command ([project.scripts] in pyproject.toml): one click command per verb of the REST API.

Exit codes are in errors.py (and `gantry --help`); errors print the API's own messages on stderr.
"""

import functools
import os
from urllib.parse import quote

import click

from . import errors
from .client import Api
from .config import TOKEN_ENV, URL_ENV, config_write, credentials, server_url
from .deployments import DEPLOYMENTS, deployment_detail, deployment_find, patch_lines, spec_apply, spec_plan
from .errors import ApiRefused, CliError
from .output import DEPLOYMENT_HEADERS, deployment_row, emit, output_option, table_lines

spec_file_option = click.option("-f", "--filename", "spec_file", required=True,
                                type=click.File("r", encoding="utf-8"),
                                help="The spec, YAML (or JSON) as in SPEC.md; `-` reads standard input.")
team_option = click.option("--team", help="The team's slug, when several of your teams use the name.")


class Session:
    """What commands share: the API client, made on first use (`login` and `--help` need no credentials)."""

    @functools.cached_property
    def api(self):
        return Api(*credentials())

    def deployment_path(self, name, team, tail=""):
        return f"{DEPLOYMENTS}{deployment_find(self.api, name, team)['id']}/{tail}"


pass_session = click.make_pass_decorator(Session, ensure=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=f"\b\nExit codes:\n{errors.EXIT_CODES}")
@click.version_option(package_name="gantry", prog_name="gantry")
def cli():
    """Deploy ML inference services on Gantry from YAML specs.

    The server and token come from GANTRY_URL and GANTRY_TOKEN, or from the file `gantry login` writes.
    """


@cli.command()
@click.option("--url", help=f"The portal's address, e.g. https://gantry.example.com (default: ${URL_ENV}).")
@click.option("--token-stdin", is_flag=True, help="Read the token from standard input (for scripts).")
def login(url, token_stdin):
    """Check a token against the server and save both for later commands (0600)."""
    url = server_url(url or os.environ.get(URL_ENV) or click.prompt("Gantry URL"))
    if token_stdin:
        token = click.get_text_stream("stdin").readline().strip()
    else:
        token = os.environ.get(TOKEN_ENV) or click.prompt(f"API token (create one at {url}/tokens/)", hide_input=True)
    if not token:
        raise CliError("no token given", errors.USAGE)
    Api(url, token).json("GET", DEPLOYMENTS, params={"page_size": 1})  # a 401 here stops before saving
    path = config_write(url=url, token=token)
    click.echo(f"Logged in to {url}; saved in {path}")


@cli.command()
@spec_file_option
@output_option
@pass_session
def preview(session, spec_file, fmt):
    """Dry run: the completed spec, cost, warnings and what `apply` would change; nothing is stored.
    Exit 1 if the spec has errors."""
    plan = spec_plan(session.api, _read(spec_file))
    emit(plan.preview, fmt, lambda: _preview_lines(plan))
    if plan.blocking:
        raise ApiRefused(plan.blocking)


def _read(spec_file):
    try:
        return spec_file.read()
    except (UnicodeDecodeError, OSError) as exc:
        raise CliError(f"cannot read {spec_file.name}: {exc}", errors.USAGE) from None


def _preview_lines(plan):
    doc = plan.preview
    spec, cost = doc.get("spec") or {}, doc.get("cost")
    compute = spec.get("compute") or {}
    where = " ".join(str(part) for part in (compute.get("gpus_per_replica"), compute.get("gpu_class") and "x",
                                            compute.get("gpu_class"), "in", compute.get("region")) if part)
    yield f"{spec.get('team')}/{spec.get('name')}: {spec.get('workload')} on {doc.get('target')}, {where}"
    if cost:
        yield f"cost: {cost['per_hour_min']:.2f}-{cost['per_hour_max']:.2f} {cost['currency']} per hour, " \
              f"{cost['per_month_min']:.0f}-{cost['per_month_max']:.0f} per month"
    for warning in doc.get("warnings") or []:
        yield f"warning: {errors.error_line(warning)}"
    for note in plan.notes:
        if note["code"] != "name_taken":
            yield f"note: {errors.error_line(note)}"
    if plan.blocking:
        return
    if plan.current is None:
        yield "apply creates it"
    elif not plan.patch:
        yield f"apply changes nothing: revision {plan.current['revision']} already matches"
    else:
        yield f"apply changes revision {plan.current['revision']}:"
        yield from (f"  {line}" for line in patch_lines(plan.patch, plan.current.get("spec")))


@cli.command()
@spec_file_option
@output_option
@pass_session
def apply(session, spec_file, fmt):
    """Create the deployment the spec names, or change it to match the spec; nothing if it already does."""
    action, detail, plan = spec_apply(session.api, _read(spec_file))

    def lines():
        yield _applied_line(action, detail)
        if action == "updated":
            yield from (f"  {line}" for line in patch_lines(plan.patch, plan.current.get("spec")))

    emit({"action": action, "changes": plan.patch or {}, "deployment": detail}, fmt, lines)


def _applied_line(action, d):
    what = {"created": "created", "updated": "changed",
            "unchanged": "unchanged: the stored spec already matches"}[action]
    line = f"{d['team']}/{d['name']} {what} (revision {d['revision']}, {d['status']['phase']})"
    if d["status"]["phase"] == "pending_approval" and d.get("approval_reason"):
        line += f": {d['approval_reason']}"
    return line


@cli.command()
@click.argument("name")
@team_option
@output_option
@pass_session
def get(session, name, team, fmt):
    """One deployment: status, spec and spend."""
    d = deployment_detail(session.api, name, team)
    emit(d, fmt, lambda: table_lines([*DEPLOYMENT_HEADERS, "URL"], [[*deployment_row(d), d["status"]["url"]]]))


@cli.command(name="list")
@click.option("--team", help="Only this team's deployments (its slug).")
@click.option("--status", help="Only deployments in this status (e.g. running, failed).")
@click.option("--all", "everything", is_flag=True, help="Include deleted deployments.")
@output_option
@pass_session
def list_(session, team, status, everything, fmt):
    """Your teams' deployments."""
    params = {"page_size": 200, **({"team": team} if team else {}), **({"status": status} if status else {})}
    items = [d for d in session.api.pages(DEPLOYMENTS, params)
             if everything or status or d["status"]["phase"] != "deleted"]
    emit(items, fmt, lambda: table_lines(DEPLOYMENT_HEADERS, [deployment_row(d) for d in items]))


@cli.command()
@click.argument("name")
@team_option
@click.option("-f", "--follow", is_flag=True, help="Stream new lines as they are written (the server ends a "
                                                   "stream after a while: run again to go on).")
@click.option("--tail", type=int, help="Only the last N lines.")
@click.option("--since", "since_seconds", type=int, help="Only lines of the last N seconds.")
@click.option("--pod", help="One of the deployment's pods (default: the one ready the longest, as kubectl picks).")
@click.option("--container", help="Default: the model container.")
@click.option("--previous", is_flag=True, help="The previous (crashed) container's log.")
@pass_session
def logs(session, name, team, follow, tail, since_seconds, pod, container, previous):
    """A pod's log, as text."""
    params = {"follow": follow or None, "tail": tail, "since_seconds": since_seconds, "pod": pod,
              "container": container, "previous": previous or None}
    params = {k: (1 if v is True else v) for k, v in params.items() if v is not None}
    response = session.api.request("GET", session.deployment_path(name, team, "logs/"), params=params, stream=follow,
                               timeout=(10, None) if follow else (10, 60))
    out = click.get_binary_stream("stdout")
    try:
        for chunk in response.iter_content(chunk_size=None):
            out.write(chunk)
            out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        response.close()


@cli.command()
@click.argument("name")
@team_option
@click.option("--start", is_flag=True, help="Start another run of a finished batch deployment first.")
@output_option
@pass_session
def runs(session, name, team, start, fmt):
    """A batch deployment's runs, newest first."""
    path = session.deployment_path(name, team, "runs/")
    if start:
        session.api.json("POST", path)
    items = session.api.json("GET", path)
    rows = [[r["number"], r["revision"], r["status"], f"{r['shards_done']}/{r['shards_total']}",
             _seconds(r["duration_seconds"]), _money(r["cost_usd"]), r["started_at"]] for r in items]
    emit(items, fmt, lambda: table_lines(("RUN", "REVISION", "STATUS", "SHARDS", "DURATION", "COST_USD", "STARTED"),
                                         rows))


def _seconds(value):
    return None if value is None else f"{value:.0f}s"


def _money(value):
    return None if value is None else f"{float(value):.2f}"


@cli.command()
@click.argument("name")
@team_option
@click.option("--to", "revision", type=click.IntRange(min=1), required=True, help="The revision to go back to.")
@output_option
@pass_session
def rollback(session, name, team, revision, fmt):
    """Go back to an earlier revision's spec (a new revision, pushed again)."""
    d = session.api.json("POST", session.deployment_path(name, team, "rollback/"), json={"revision": revision})
    emit(d, fmt, lambda: [f"{d['team']}/{d['name']} rolled back to revision {revision}'s spec "
                          f"(revision {d['revision']}, {d['status']['phase']})"])


@cli.command()
@click.argument("name")
@team_option
@output_option
@pass_session
def delete(session, name, team, fmt):
    """Tear a deployment down (its status goes to deleting, then deleted)."""
    d = session.api.json("DELETE", session.deployment_path(name, team))
    emit(d, fmt, lambda: [f"{d['team']}/{d['name']} {d['status']['phase']}"])


@cli.command()
@click.argument("team")
@click.option("--from", "start", help="First day, YYYY-MM-DD (default: 30 days before --to).")
@click.option("--to", "end", help="Last day, inclusive, YYYY-MM-DD (default: today).")
@output_option
@pass_session
def cost(session, team, start, end, fmt):
    """A team's spend by deployment over a range of days."""
    params = {k: v for k, v in (("from", start), ("to", end)) if v}
    spend = session.api.json("GET", f"/api/v1/teams/{quote(team, safe='')}/spend/", params=params)

    def lines():
        rows = [[d["name"], _money(d["cost_usd"]), d["gpu_hours"], _money(d["warm_cost_usd"])]
                for d in spend["deployments"]]
        yield from table_lines(("DEPLOYMENT", "COST_USD", "GPU_HOURS", "WARM_COST_USD"), rows)
        yield f"total: {_money(spend['total_usd'])} {spend['currency']} from {spend['from']} to {spend['to']}"

    emit(spend, fmt, lines)


def main():
    cli(prog_name="gantry")
