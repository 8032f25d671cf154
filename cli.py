"""`hall`: the command line of the hall workflow engine. Thin: parse, call the API, print."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import update_wrapper
from typing import Any

import click


class Context:
    """Global options; the engine is opened lazily so `hall --help` never touches a database."""

    def __init__(self, db: str, user: str | None, now: str | None, forms: str, config: str | None) -> None:
        self.db, self.user, self.now_text, self.forms_dir, self.config_path = db, user, now, forms, config
        self._engine: Any = None
        self._settings: dict | None = None
        self.warned = False

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from .engine import Engine
            from .engine.clock import Clock, FixedClock
            from .servicehall import access

            settings = self.settings
            clock = FixedClock(parse_now(self.now_text)) if self.now_text else Clock()
            # the database: --db > HALL_DB > hall.yaml `database:` > ./hall.db
            url = self.db or settings.get("database") or "hall.db"
            forms = self.forms_dir or settings.get("forms") or "forms"  # --forms > HALL_FORMS > forms: > ./forms
            # the hall's confidential and first-receiver rules where hall.yaml leaves them out
            self._engine = Engine(url, clock=clock, forms_dir=forms, settings=access.with_defaults(settings))
            self._engine.require_user = True  # with users in hall.yaml, who acts must be named (--user)
        return self._engine

    @property
    def settings(self) -> dict:
        """hall.yaml, read once; a missing ./hall.yaml means defaults and one notice line on stderr,
        a missing file named by --config / HALL_CONFIG is an error."""
        if self._settings is None:
            from .engine.config import missing_notice
            from .servicehall.config import load_config  # the engine's sections and the hall's

            self._settings = load_config(self.config_path)
            notice = missing_notice(self.config_path)
            if notice:
                click.echo(f"notice: {notice}", err=True)
        return self._settings

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()


def parse_now(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO date-time like 2026-09-30T16:00+08:00", param_hint="--now"
        ) from None
    if value.tzinfo is None:
        raise click.BadParameter(f"{text!r} has no UTC offset (write e.g. 2026-09-30T16:00+08:00)", param_hint="--now")
    try:
        value.astimezone(UTC)  # every time is stored in UTC: one that has none there is refused here
    except OverflowError:
        raise click.BadParameter(f"{text!r} lies outside the years 1 to 9999 in UTC", param_hint="--now") from None
    return value


def command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the Context and turn every HallError into one line and exit status 1."""

    @click.pass_obj
    def wrapper(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        from .engine.errors import HallError

        try:
            return fn(ctx, *args, **kwargs)
        except HallError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        finally:
            ctx.close()

    return update_wrapper(wrapper, fn)


def emit(data: Any, as_json: bool, human: Callable[[Any], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        human(data)


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document (stable contract).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="HALL_DB",
    default=None,
    help="Database: a SQLite file path or URL (sqlite:///x.db, postgresql+psycopg://...). Env HALL_DB; "
    "default hall.yaml's database:, else hall.db.",
)
@click.option("--user", envvar="HALL_USER", default=None, help="Who is acting. Env HALL_USER.")
@click.option(
    "--now",
    envvar="HALL_NOW",
    default=None,
    help="Run at a simulated time (ISO with offset), for rehearsals on a test database. Env HALL_NOW.",
)
@click.option(
    "--forms",
    envvar="HALL_FORMS",
    default=None,
    help="Folder of form files. Env HALL_FORMS; default hall.yaml's forms:, else forms.",
)
@click.option(
    "--config", envvar="HALL_CONFIG", default=None, help="Configuration file (default ./hall.yaml if present)."
)
@click.pass_context
def main(click_ctx: click.Context, db: str, user: str | None, now: str | None, forms: str, config: str | None) -> None:
    """hall: run BPMN processes (service hall, complaints) with forms, deadlines and history."""
    click_ctx.obj = Context(db, user, now, forms, config)


# -- schema and definitions ------------------------------------------------------------------
@main.command()
@click.option(
    "--reindex", is_flag=True, help="Index every case anew for `hall find` (after hall.yaml's cases.search changed)."
)
@command
def init(ctx: Context, reindex: bool) -> None:
    """Create the database schema, or upgrade an older one without losing data."""
    result = ctx.engine.init()
    before = result["schema_before"]
    if before == result["schema"]:
        click.echo(f"{result['database']}: schema already at version {before}")
    else:
        click.echo(f"{result['database']}: schema version {before or 'none'} -> {result['schema']}")
    if reindex:
        done = ctx.engine.reindex(user=ctx.user)
        click.echo(f"search index: {done['values']} values of {done['cases']} cases")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@json_option
@click.option("--check", is_flag=True, help="First show which running cases could move, and run the scenarios.")
@click.option("--force", is_flag=True, help="With --check: deploy even when a scenario fails.")
@command
def deploy(ctx: Context, paths: tuple[str, ...], as_json: bool, check: bool, force: bool) -> None:
    """Check and store new versions of the processes in PATHS (files or folders; default processes/)."""
    if check:
        from .engine import workbench

        forms = ctx.forms_dir or ctx.settings.get("forms") or "forms"
        say = (lambda line: click.echo(line, err=True)) if as_json else click.echo
        if not workbench.check_deploy(ctx.engine, paths or ("processes",), _hall_settings(ctx), forms, say, ctx.user):
            if not force:
                click.echo(
                    "error: deploy refused: a scenario of a changed process failed (--force deploys anyway)", err=True
                )
                sys.exit(1)
            say("deploying anyway (--force)")
    results = ctx.engine.deploy(paths or ("processes",), user=ctx.user)

    def human(rows: list[dict]) -> None:
        for r in rows:
            what = f"deployed as version {r['version']}" if r["changed"] else f"unchanged (version {r['version']})"
            click.echo(f"{r['process']}: {what}  [{r['file']}]")

    emit(results, as_json, human)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--strict", is_flag=True, help="Warnings (missing shapes, modeler lint, unset variables) fail too.")
@command
def validate(ctx: Context, paths: tuple[str, ...], strict: bool) -> None:
    """Check BPMN files without storing them: one line per finding, exit 1 if any error (or warning,
    with --strict)."""
    from .engine.lint import is_warning

    findings = ctx.engine.validate(paths, lint=True)
    for f in findings:  # errors on stdout as always; warnings on stderr unless they fail (--strict)
        click.echo(str(f), err=is_warning(f) and not strict)
    errors = [f for f in findings if strict or not is_warning(f)]
    if errors:
        sys.exit(1)
    warned = len(findings)
    click.echo(f"ok: {', '.join(paths)}" + (f" ({warned} warning(s); --strict fails on them)" if warned else ""))


@main.command()
@command
def definitions(ctx: Context) -> None:
    """List deployed process versions."""
    for d in ctx.engine.definitions():
        click.echo(
            f"{d['process']} v{d['version']}  {d['name'] or ''}  {d['deployed_at']}  {d['running']} running"
            + ("  withdrawn" if d["withdrawn"] else "")
            + f"  [{d['file']}]"
        )


@main.command()
@click.argument("process")
@command
def rollback(ctx: Context, process: str) -> None:
    """New cases start the previous version again; the latest version's cases run on."""
    done = ctx.engine.rollback(process, user=ctx.user)
    click.echo(
        f"{process}: new cases start v{done['to']} again; v{done['from']} withdrawn ({done['running']} case(s) run on)"
    )


@main.command()
@click.argument("process")
@click.option("--version", "version", type=int, required=True, help="The version to withdraw.")
@command
def undeploy(ctx: Context, process: str, version: int) -> None:
    """Withdraw a deployed version no case uses; when it was the latest, new cases start the previous one."""
    done = ctx.engine.undeploy(process, version, user=ctx.user)
    now = f"new cases start v{done['latest']}" if done["latest"] else "no version is left"
    click.echo(f"{process} v{version} withdrawn; {now}")


# -- instances ----------------------------------------------------------------------------------
def read_data(sets: tuple[str, ...], data_file: str | None) -> dict:
    from .engine.dataio import parse_assignments, read_data_file

    data = read_data_file(data_file) if data_file else {}
    data.update(parse_assignments(sets))
    return data


set_option = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=VALUE",
    help="A variable (repeatable); NAME:=JSON for a typed value (n:=5, ok:=true).",
)
data_option = click.option("--data", "data_file", type=click.Path(), help="Variables from a YAML or JSON file.")


@main.command()
@click.argument("process")
@click.option("--key", "business_key", help="Business key (e.g. the case number).")
@set_option
@data_option
@json_option
@command
def start(
    ctx: Context, process: str, business_key: str | None, sets: tuple[str, ...], data_file: str | None, as_json: bool
) -> None:
    """Start PROCESS (its latest version) and run it until it waits."""
    view = ctx.engine.start(process, business_key, read_data(sets, data_file), user=ctx.user)
    emit(view, as_json, lambda v: print_instance(ctx, v))


@main.command()
@click.argument("instance")
@json_option
@command
def show(ctx: Context, instance: str, as_json: bool) -> None:
    """Show an instance: status, version, current tasks, variables, links."""
    emit(ctx.engine.show(instance, user=ctx.user), as_json, lambda v: print_instance(ctx, v, variables=True))


def limit_option(default: int) -> Callable[..., Any]:
    return click.option(
        "--limit",
        default=default,
        show_default=True,
        type=click.IntRange(min=1),
        help="Show at most this many (a notice on stderr says when the list was cut).",
    )


def notice_cut(rows: Any, what: str) -> None:
    """One line on stderr when a list was cut at its limit (stdout, and --json's list, stay as they are)."""
    if getattr(rows, "truncated", False):
        of = f" of {rows.total}" if rows.total is not None else " (there are more)"
        click.echo(f"notice: showing {len(rows)}{of} {what}; use --limit", err=True)


@main.command("instances")
@click.option("--process")
@click.option("--status")
@click.option("--key", "business_key")
@limit_option(200)
@json_option
@command
def list_instances(
    ctx: Context, process: str | None, status: str | None, business_key: str | None, limit: int, as_json: bool
) -> None:
    """List instances, newest first."""
    rows = ctx.engine.instances(process, status, business_key, user=ctx.user, limit=limit)
    notice_cut(rows, "instances")

    def human(rows: list[dict]) -> None:
        for r in rows:
            click.echo(
                f"{r['id']:>6}  {r['process'] + ' v' + str(r.get('version') or '?'):<15} {r['status']:<10} {r['business_key'] or '-':<20} {r['started_at']}"
                f"  {r.get('customer') or ''}".rstrip()
            )

    emit(rows, as_json, human)


@main.command()
@click.argument("text")
@limit_option(50)
@json_option
@command
def find(ctx: Context, text: str, limit: int, as_json: bool) -> None:
    """Find cases by number, company or person name, or phone number (any part of it).

    Searches the business key and the variables hall.yaml's `cases.search` names, ignoring case,
    spaces and punctuation: `hall find TS20261124-0002`, `hall find 华为`, `hall find 8000`.
    """
    rows = ctx.engine.find(text, user=ctx.user, limit=limit)
    notice_cut(rows, "cases")

    def human(rows: list[dict]) -> None:
        if not rows:
            click.echo(f"no case found for {text!r}")
            return
        for r in rows:
            matched = "; ".join(f"{m['field']}={m['value']}" for m in r["matches"])
            click.echo(
                f"{r['id']:>6}  {r['process'] + ' v' + str(r.get('version') or '?'):<15} {r['status']:<10} {r['business_key'] or '-':<20} "
                f"{r['customer'] or '-'}  ({matched})"
            )

    emit(rows, as_json, human)


@main.command()
@click.argument("instance")
@click.option("--reason", default=None)
@command
def suspend(ctx: Context, instance: str, reason: str | None) -> None:
    """Suspend an instance: no task can be completed and no timer fires until it is resumed."""
    print_instance(ctx, ctx.engine.suspend(instance, reason, user=ctx.user))


@main.command()
@click.argument("instance")
@command
def resume(ctx: Context, instance: str) -> None:
    """Resume a suspended instance."""
    print_instance(ctx, ctx.engine.resume(instance, user=ctx.user))


@main.command()
@click.argument("instance")
@click.option("--reason", required=True, help="Why (kept in the history).")
@command
def cancel(ctx: Context, instance: str, reason: str) -> None:
    """Cancel an instance: its open tasks and timers are withdrawn."""
    print_instance(ctx, ctx.engine.cancel(instance, reason, user=ctx.user))


@main.command()
@click.argument("instance")
@set_option
@data_option
@click.option(
    "--latest",
    is_flag=True,
    help="First move the instance to the latest deployed version of its process "
    "(a fixed definition); refused if an element it is at is not there.",
)
@command
def retry(ctx: Context, instance: str, sets: tuple[str, ...], data_file: str | None, latest: bool) -> None:
    """Run an instance in incident again (after fixing its data with --set/--data, or its definition: --latest)."""
    print_instance(ctx, ctx.engine.retry(instance, read_data(sets, data_file), user=ctx.user, latest=latest))


@main.command()
@json_option
@command
def incidents(ctx: Context, as_json: bool) -> None:
    """List instances stopped by an error in a script, condition or service call."""

    def human(rows: list[dict]) -> None:
        if not rows:
            click.echo("no incidents")
        for r in rows:
            click.echo(f"{r['instance']:>6}  {r['process']:<12} {r['element']}: {r['error']}  (since {r['since']})")

    emit(ctx.engine.incidents(user=ctx.user), as_json, human)


@main.command()
@click.argument("instance", required=False)
@json_option
@command
def history(ctx: Context, instance: str | None, as_json: bool) -> None:
    """Everything that happened to an instance, oldest first; without INSTANCE, the hall-wide
    events that have no case (refused deploys, purges, reports)."""

    def human(rows: list[dict]) -> None:
        for h in rows:
            detail = json.dumps(h["detail"], ensure_ascii=False) if h["detail"] else ""
            who = h["actor"] or "-"
            click.echo(f"{h['at']}  {who:<10} {h['kind']:<16} {h['element'] or '':<20} {detail}")

    emit(ctx.engine.history(instance, user=ctx.user), as_json, human)


@main.command()
@click.argument("instance")
@click.argument("name")
@set_option
@data_option
@command
def message(ctx: Context, instance: str, name: str, sets: tuple[str, ...], data_file: str | None) -> None:
    """Deliver message NAME (with a payload from --set/--data) to an instance waiting for it."""
    print_instance(ctx, ctx.engine.send_message(instance, name, read_data(sets, data_file) or None, user=ctx.user))


# -- tasks --------------------------------------------------------------------------------------
@main.command()
@click.option("--role")
@click.option("--assignee")
@click.option("--mine", is_flag=True, help="Only tasks claimed by --user / HALL_USER.")
@click.option("--process")
@click.option("--instance")
@limit_option(500)
@json_option
@command
def tasks(
    ctx: Context,
    role: str | None,
    assignee: str | None,
    mine: bool,
    process: str | None,
    instance: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """The work queue: ready tasks, most urgent first."""
    from .engine.errors import HallError

    if mine:
        if not ctx.user:
            raise HallError("--mine needs a user: pass --user or set HALL_USER")
        assignee = ctx.user
    rows = ctx.engine.tasks(
        role=role, assignee=assignee, process=process, instance=instance, user=ctx.user, limit=limit
    )
    notice_cut(rows, "tasks")

    def human(rows: list[dict]) -> None:
        if not rows:
            click.echo("no tasks")
            return
        now = ctx.engine.clock.now()
        warn_provisional(ctx, rows)
        for t in rows:
            click.echo(
                f"{t['id']:>6}  {due_text(t, now):<22} {t['role'] or '-':<10} "
                f"{t['process']}#{t['instance']:<6} {t.get('business_key') or '-':<16} {t['title']}  "
                f"{t.get('customer') or ''}  {('@' + t['assignee']) if t['assignee'] else ''}".rstrip()
            )

    emit(rows, as_json, human)


def warn_provisional(ctx: Context, tasks: list[dict]) -> None:
    """Once per command: some deadline fell in a year without an official holiday schedule."""
    if not ctx.warned and any(t.get("due_provisional") for t in tasks):
        ctx.warned = True
        click.echo(
            "warning: deadlines marked ~ are provisional: they reach a year whose official holiday "
            "schedule is not known yet (Monday-Friday assumed); add it under calendar.official in "
            "hall.yaml when it is published (`hall calendar YYYY-MM` shows coverage)",
            err=True,
        )


def due_text(task: dict, now: datetime) -> str:
    if not task["due_at"]:
        return "no deadline"
    due = datetime.fromisoformat(task["due_at"])
    left = due - now
    mark = "~" if task.get("due_provisional") else ""
    minutes = int(left.total_seconds() // 60)
    if minutes < 0:
        return f"OVERDUE {fmt_minutes(-minutes)}{mark}"
    # due soon: past the task's warning time (camunda:followUpDate), else within two hours
    warn = task.get("warn_at")
    soon = " (soon)" if (now >= datetime.fromisoformat(warn) if warn else minutes < 120) else ""
    return f"{fmt_minutes(minutes)} left{soon}{mark}"


def fmt_minutes(minutes: int) -> str:
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    return f"{hours}h{mins:02d}m" if hours else f"{mins}m"


@main.command()
@click.argument("task_id")
@command
def task(ctx: Context, task_id: str) -> None:
    """Show one task as the staff member sees it (the form's instructions and fields)."""
    view = ctx.engine.task(task_id, user=ctx.user)
    name = f" ({view['name']})" if view["name"] else ""
    click.echo(f"task {view['id']}: {view['title']}{name}  [{view['status']}]")
    click.echo(
        f"  process {view['process']} #{view['instance']}  key {view['business_key'] or '-'}  "
        f"role {view['role'] or '-'}  assignee {view['assignee'] or '-'}  due {view['due_at'] or '-'}"
        + (
            "~ (provisional: the holiday schedule of that year is not published yet)"
            if view.get("due_provisional")
            else ""
        )
    )
    text = ctx.engine.render_task(task_id, user=ctx.user)
    if text.strip():
        click.echo(text.rstrip())
    form = ctx.engine.form(view["form"])
    if form is not None:
        for f in form.fields:
            click.echo(f"  - {f.describe()}")


@main.command()
@click.argument("task_id")
@command
def claim(ctx: Context, task_id: str) -> None:
    """Take a task so that it is yours."""
    t = ctx.engine.claim(task_id, ctx.user)
    click.echo(f"task {t['id']} ({t['title']}) claimed by {t['assignee']}")


@main.command()
@click.argument("task_id")
@command
def unclaim(ctx: Context, task_id: str) -> None:
    """Give a claimed task back to its role's queue."""
    t = ctx.engine.unclaim(task_id, ctx.user)
    click.echo(f"task {t['id']} ({t['title']}) is back in the {t['role']} queue")


@main.command()
@click.argument("task_id")
@set_option
@data_option
@json_option
@command
def complete(ctx: Context, task_id: str, sets: tuple[str, ...], data_file: str | None, as_json: bool) -> None:
    """Complete a task with data; asks field by field when run at a terminal and data is missing."""
    data = read_data(sets, data_file)
    if stdin_is_terminal():  # with --json the questions go to stderr: stdout stays one JSON document
        data = prompt_missing(ctx, task_id, data, err=as_json)
    view = ctx.engine.complete(task_id, data, user=ctx.user)
    emit(view, as_json, lambda v: print_instance(ctx, v))


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def prompt_missing(ctx: Context, task_id: str, data: dict, err: bool = False) -> dict:
    """Ask for each form field not given, re-asking until the value is valid (on stderr with `err`)."""
    view = ctx.engine.task(task_id, user=ctx.user)
    form = ctx.engine.form(view["form"])
    if form is None:
        return data
    text = ctx.engine.render_task(task_id, user=ctx.user)
    if text.strip():
        click.echo(text.rstrip(), err=err)
    for f in form.prompt_order(data):
        while True:
            raw = click.prompt(f.describe(), default="", show_default=False, err=err)
            try:
                value = f.coerce(raw)  # a blank answer takes the default, or is refused when required
            except ValueError as exc:
                click.echo(f"  {exc}", err=True)
                continue
            data[f.name] = value
            break
    return data


def print_instance(ctx: Context, v: dict, variables: bool = False) -> None:
    click.echo(f"instance {v['id']}  {v['process']} v{v['version']}  key {v['business_key'] or '-'}  [{v['status']}]")
    if v.get("incident"):
        click.echo(f"  incident at {v['incident']['element']}: {v['incident']['error']}")
    links = v.get("links") or {}
    if links.get("parent"):
        p = links["parent"]
        click.echo(f"  started from {p['process']} #{p['id']} ({p['business_key'] or '-'}, {p['status']})")
    for c in links.get("children") or []:
        click.echo(f"  linked {c['process']} #{c['id']} ({c['business_key'] or '-'}, {c['status']})")
    now = ctx.engine.clock.now()
    warn_provisional(ctx, v["tasks"])
    for t in v["tasks"]:
        click.echo(f"  task {t['id']}: {t['title']} [{t['role'] or '-'}] {due_text(t, now)}")
    for tm in v.get("timers") or []:
        click.echo(f"  timer {tm['element']} due {tm['due_at']}")
    if variables and v["variables"]:
        for k, val in v["variables"].items():
            click.echo(f"  {k} = {json.dumps(val, ensure_ascii=False)}")


@main.command()
@click.argument("task_id")
@click.argument("to_user")
@command
def reassign(ctx: Context, task_id: str, to_user: str) -> None:
    """Give task TASK_ID to TO_USER (the 'reassign' permission: 大厅主管)."""
    t = ctx.engine.reassign(task_id, to_user, user=ctx.user)
    click.echo(f"task {t['id']} ({t['title']}) assigned to {t['assignee']}")


# -- people: users and roles in hall.yaml (engine.access), and `hall config check` ------------------
def config_file(ctx: Context) -> Any:
    from .engine.config import ConfigFile

    return ConfigFile(ctx.config_path)


@main.group("user")
def user_group() -> None:
    """Users who act (--user) and their roles, kept in hall.yaml."""


@user_group.command("add")
@click.argument("user_id")
@click.option("--name", help="Full name (default: the id).")
@click.option("--role", "roles", multiple=True, required=True, help="A role (repeatable).")
@command
def user_add(ctx: Context, user_id: str, name: str | None, roles: tuple[str, ...]) -> None:
    """Add a user to hall.yaml (comments in the file are kept)."""
    f = config_file(ctx)
    f.add_user(user_id, name, list(roles))
    f.save()
    click.echo(
        f"{f.path}: {'created with ' if f.created else ''}user {user_id} ({name or user_id}): {', '.join(roles)}"
    )


@user_group.command("list")
@json_option
@command
def user_list(ctx: Context, as_json: bool) -> None:
    """The configured users, their roles and what those allow."""
    from .engine.access import People

    people = People.from_config(ctx.settings)
    rows = [
        {
            "id": u.id,
            "name": u.name,
            "roles": list(u.roles),
            "serves": sorted(people.groups(u)),
            "may": sorted({p for r in u.roles for p in people.role(r).may}),
        }
        for u in people.users.values()
    ]

    def human(rows: list[dict]) -> None:
        if not rows:
            click.echo("no users configured: everybody may do everything (add one with `hall user add`)")
        for r in rows:
            click.echo(
                f"{r['id']:<10} {r['name']:<10} roles {', '.join(r['roles'])}"
                + (f"  may {', '.join(r['may'])}" if r["may"] else "")
            )

    emit(rows, as_json, human)


@main.group("role")
def role_group() -> None:
    """Roles: the lanes / candidate groups they serve and their permissions, kept in hall.yaml."""


@role_group.command("list")
@json_option
@command
def role_list(ctx: Context, as_json: bool) -> None:
    """The configured roles."""
    from .engine.access import People

    people = People.from_config(ctx.settings)
    rows = [
        {
            "role": r.name,
            "serves": sorted(r.serves),
            "may": sorted(r.may),
            "users": [u.id for u in people.users.values() if r.name in u.roles],
        }
        for r in people.roles.values()
    ]

    def human(rows: list[dict]) -> None:
        if not rows:
            click.echo("no roles configured: a role serves the lane of its own name, without permissions")
        for r in rows:
            click.echo(
                f"{r['role']:<8} serves {', '.join(r['serves']) or '-'}"
                + (f"  may {', '.join(r['may'])}" if r["may"] else "")
                + (f"  users {', '.join(r['users'])}" if r["users"] else "")
            )

    emit(rows, as_json, human)


@role_group.command("add")
@click.argument("name")
@click.option("--serves", multiple=True, help="A lane or candidate group (repeatable; default: NAME).")
@click.option("--may", multiple=True, help="A permission: confidential, reassign, manage, see_all, deploy.")
@command
def role_add(ctx: Context, name: str, serves: tuple[str, ...], may: tuple[str, ...]) -> None:
    """Add a role to hall.yaml (comments in the file are kept)."""
    f = config_file(ctx)
    f.add_role(name, list(serves), list(may))
    f.save()
    click.echo(
        f"{f.path}: role {name} serves {', '.join(serves or (name,))}" + (f", may {', '.join(may)}" if may else "")
    )


@main.group("config")
def config_group() -> None:
    """The configuration file (hall.yaml)."""


@config_group.command("check")
@command
def config_check(ctx: Context) -> None:
    """Check hall.yaml: one line per problem `FILE:LINE: where: what`, exit 1 if any."""
    from .servicehall.config import check_config  # the engine's sections and the hall's

    problems, notice = check_config(ctx.config_path)
    if notice:
        click.echo(f"notice: {notice}", err=True)
    for line in problems:
        click.echo(line)
    if problems:
        sys.exit(1)
    if not notice:
        click.echo(f"ok: {ctx.config_path or 'hall.yaml'}")


# -- timers and the calendar -------------------------------------------------------------------
@main.command()
@click.option("--once", is_flag=True, help="Fire everything due now, then exit (for cron).")
@click.option("--batch", default=100, show_default=True, type=click.IntRange(min=1), help="Jobs claimed at a time.")
@click.option(
    "--lease",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Seconds a claim lasts; a dead worker's jobs are taken over after it.",
)
@click.option(
    "--poll", default=5.0, show_default=True, type=click.FloatRange(min=0), help="Seconds to wait when nothing is due."
)
@click.option(
    "--max-attempts",
    default=5,
    show_default=True,
    type=click.IntRange(min=1),
    help="Failed firings before the instance is marked incident.",
)
@click.option(
    "--group",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="PostgreSQL: timers of up to this many cases fire in one transaction (1: one each).",
)
@json_option
@command
def worker(
    ctx: Context, once: bool, batch: int, lease: float, poll: float, max_attempts: int, group: int, as_json: bool
) -> None:
    """Fire due timers: one line per timer; runs until SIGTERM/Ctrl-C unless --once."""

    def line(event: Any) -> None:
        job = event.job
        where = f"instance {job.instance_id:<6}" if job.instance_id is not None else f"starts {job.process_id:<9}"
        text = f"{event.kind:<8} {where} {job.element:<20} due {job.due_at.isoformat()}"
        if event.error:
            text += f"  error: {event.error}"
        if event.next_due:
            text += f"  next attempt {event.next_due.isoformat()}"
        click.echo(text)

    summary = ctx.engine.run_due_jobs(
        once=once,
        batch=batch,
        lease=lease,
        poll=poll,
        max_attempts=max_attempts,
        group=group,
        on_event=None if as_json else line,
    )

    def human(s: dict) -> None:
        rate = s["fired"] / s["seconds"] if s["seconds"] else 0.0
        jobs = s["jobs"]
        click.echo(
            f"worker {s['worker']}: fired {s['fired']}, stale {s['stale']}, retried {s['retried']}, "
            f"incidents {s['incidents']}, released {s['released']} in {s['seconds']:.2f}s ({rate:.0f}/s)"
            + (f"; stopped by {s['stopped_by']}" if s["stopped_by"] else "")
        )
        click.echo(
            f"jobs: {jobs['pending']} pending, {jobs['due']} due, {jobs['locked']} held, "
            f"{jobs['failing']} failing, next due {jobs['next_due'] or '-'}"
        )

    emit(summary, as_json, human)


@main.command("calendar")
@click.argument("month", required=False)
@json_option
@command
def calendar_cmd(ctx: Context, month: str | None, as_json: bool) -> None:
    """Show a month of the business calendar (default: this month) and which years it covers;
    `hall calendar refresh` counts the open provisional deadlines again (R-T1)."""
    if month == "refresh":
        result = ctx.engine.refresh_deadlines(user=ctx.user)

        def moved(v: dict) -> None:
            for m in v["moved"]:
                where = f"task {m['task']}" if m["task"] is not None else "timer"
                mark = "~" if m["provisional"] else " "
                click.echo(f"case {m['instance']} {where} {m['element']}: {m['from']} -> {m['to']}{mark}")
            click.echo(f"{len(v['moved'])} deadline(s) moved in {v['cases']} case(s) checked")

        emit(result, as_json, moved)
        return
    if month:
        try:
            year, mon = (int(part) for part in month.split("-"))
        except ValueError:
            raise click.BadParameter(f"{month!r} is not a month like 2026-10", param_hint="MONTH") from None
    else:
        today = ctx.engine.clock.now().astimezone(ctx.engine.deadlines.calendar.tz)
        year, mon = today.year, today.month
    view = ctx.engine.calendar_month(year, mon)

    def human(v: dict) -> None:
        lunch = f", lunch {v['lunch']}" if v["lunch"] else ""
        click.echo(
            f"{v['month']}  ({v['timezone']}, office {v['office_hours']}{lunch}; "
            f"{v['working_days']} working days; schedule from {v['source']})"
        )
        for d in v["days"]:
            mark = "~" if d["provisional"] else " "
            click.echo(
                f"  {d['weekday']} {d['date']}  {'working' if d['working'] else 'closed ':<7}{mark} {d['reason']}"
            )
        cov = v["coverage"]
        configured = ", ".join(str(y) for y in cov["configured"]) or "none"
        click.echo(
            f"coverage: library {cov['library'][0]}-{cov['library'][1]}; configured: {configured}; {cov['provisional']}"
        )
        if v["provisional"]:
            click.echo(
                f"warning: {v['month'][:4]} has no official schedule (library or hall.yaml calendar.official); "
                "days marked ~ are provisional and deadlines on them may move",
                err=True,
            )

    emit(view, as_json, human)


@main.command()
@click.option("--file", "demo_db", default="hall-demo.db", show_default=True, help="SQLite file to (re)create.")
@command
def demo(ctx: Context, demo_db: str) -> None:
    """Play a whole day of the service hall on a fresh SQLite file (run from the repository)."""
    import time

    from .servicehall import demo as hall_demo

    started = time.perf_counter()
    hall_demo.run(demo_db, echo=click.echo)
    click.echo(f"(played in {time.perf_counter() - started:.1f} s; inspect with `hall --db {demo_db} ...`)")


# -- indicators, reports and retention (servicehall.kpi, .reports, .retention; docs/kpi.md) ----------
@main.command("kpi")
@click.option(
    "--from", "date_from", metavar="DATE", help="First day (local, inclusive); default the 1st of this month."
)
@click.option("--to", "date_to", metavar="DATE", help="Last day (local, inclusive); default today.")
@json_option
@command
def kpi_cmd(ctx: Context, date_from: str | None, date_to: str | None, as_json: bool) -> None:
    """Complaint indicators (R-K1) with numerators and denominators, counts by type/topic, workload."""
    from .servicehall import kpi

    eng = ctx.engine
    period = kpi.period_from(date_from, date_to, eng.clock.now(), eng.deadlines.calendar.config.timezone)
    emit(kpi.indicators(eng, period, user=ctx.user), as_json, lambda k: click.echo(kpi.format_text(k)))


@main.command("report")
@click.argument("kind", type=click.Choice(["daily", "monthly", "quarterly", "half-year", "yearly", "due"]))
@click.option(
    "--date", "day", metavar="DATE", help="The day the report is made (default today): it covers the period before it."
)
@click.option("--out", "out_dir", metavar="DIR", help="Reports folder (default reports/, or reports.out).")
@json_option
@command
def report_cmd(ctx: Context, kind: str, day: str | None, out_dir: str | None, as_json: bool) -> None:
    """Write the daily/monthly/quarterly/half-year/yearly report (R-K3), or list the reports `due`."""
    from .servicehall import kpi, reports

    eng = ctx.engine
    when = kpi.parse_day(day, "--date") if day else None
    out = out_dir or reports.ReportsConfig.from_settings(eng.settings).out
    if kind == "due":
        rows = reports.due_reports(eng, out, when, user=ctx.user)

        def human(rows: list[dict]) -> None:
            if not rows:
                click.echo(f"no report due: every report whose period is over is in {out}/")
            for r in rows:
                state = "OVERDUE since" if r["overdue"] else "due by"
                click.echo(f"{r['kind']:<10} {r['name']:<32} {state} {r['deadline']}  -> {r['path']}")

        emit(rows, as_json, human)
        return
    data = reports.build(eng, kind, when, user=ctx.user)
    paths = reports.write(data, out)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "name": data["name"],
                    "kind": kind,
                    "from": data["from"],
                    "to": data["to"],
                    "files": paths,
                    "kpi": data["kpi"],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(f"{data['name']}  ({data['from']} .. {data['to']})")
    for ext in ("md", "csv", "svg"):
        click.echo(f"  wrote {paths[ext]}")


@main.command("export")
@click.argument("instance")
@click.option("--out", "out_file", metavar="FILE", help="Write here instead of standard output.")
@command
def export_cmd(ctx: Context, instance: str, out_file: str | None) -> None:
    """Write a case file as JSON: instance, variables, history, the forms filled, linked cases (R-F7)."""
    from .servicehall import retention

    # the text as typed: the engine checks it (not a number is InstanceNotFound, as for `hall show`)
    doc = retention.export_case(ctx.engine, instance, user=ctx.user)  # type: ignore[arg-type]
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    if out_file:
        from pathlib import Path

        from .engine.errors import OutputNotWritable

        try:
            Path(out_file).write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise OutputNotWritable(out_file, exc.strerror or str(exc)) from None
        click.echo(
            f"case {doc['instance']['id']} ({doc['instance']['process']}, {len(doc['history'])} history "
            f"entries, {len(doc['forms'])} forms) written to {out_file}"
        )
    else:
        click.echo(text)


@main.command("purge")
@click.option(
    "--before", "before", required=True, metavar="DATE", help="Delete finished cases that ended before this day."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@command
def purge_cmd(ctx: Context, before: str, yes: bool) -> None:
    """Delete finished cases older than DATE, never inside their retention period (R-C9) nor filings (R-F2)."""
    from .servicehall import kpi, retention

    eng = ctx.engine
    plan = retention.plan_purge(eng, kpi.parse_day(before, "--before"), user=ctx.user)
    for k in plan["kept"]:
        click.echo(
            f"keep   {k['id']:>6}  {k['process']:<12} {k['business_key'] or '-':<20} ended {k['ended_at']}  "
            f"({k['reason']})"
        )
    for d in plan["delete"]:
        click.echo(
            f"delete {d['id']:>6}  {d['process']:<12} {d['business_key'] or '-':<20} ended {d['ended_at']}  "
            f"[{d['status']}, retention {d['retention']}]"
        )
    if not plan["delete"]:
        click.echo(f"nothing to delete before {plan['before']}")
        return
    if not yes and not click.confirm(
        f"delete these {len(plan['delete'])} case(s) with their tasks, jobs and history? This cannot be undone",
        default=False,
    ):
        click.echo("nothing deleted")
        sys.exit(1)
    result = retention.purge(eng, plan, user=ctx.user)
    rows = ", ".join(f"{n} {t}" for t, n in result["rows"].items())
    click.echo(f"archived {len(result['archived'])} case file(s) under {retention.archive_folder(eng.settings)}/")
    click.echo(f"deleted {len(result['deleted'])} case(s): {rows}")


# -- the process owner's workbench (issue 18): scenario files, diagrams ------------------------------
@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--junit-xml", "junit", type=click.Path(dir_okay=False), help="Also write the results as JUnit XML.")
@click.option("--coverage", "coverage_dir", type=click.Path(file_okay=False), help="Write coverage SVGs to DIR.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="`hall test record`: the file to write.")
@command
def test_cmd(
    ctx: Context, paths: tuple[str, ...], junit: str | None, coverage_dir: str | None, out_file: str | None
) -> None:
    """Run scenario files (default processes/tests/), each scenario on a fresh temporary database;
    `hall test record INSTANCE [--out FILE]` writes a scenario replaying a case."""
    from .engine import workbench

    if paths[:1] == ("record",):
        if len(paths) != 2:
            raise click.UsageError("hall test record INSTANCE [--out FILE]")
        text = workbench.record(ctx.engine, paths[1], user=ctx.user)
        if out_file:
            workbench.write_text(out_file, text)
            click.echo(f"wrote {out_file}")
        else:
            click.echo(text, nl=False)
        return
    forms = ctx.forms_dir or ctx.settings.get("forms") or "forms"
    ok = workbench.run_tests(
        paths or ("processes/tests",), _hall_settings(ctx), forms, click.echo, junit=junit, coverage_dir=coverage_dir
    )
    if not ok:
        sys.exit(1)


@main.command("diagram")
@click.argument("target")
@click.option(
    "--version", "version", type=int, default=None, help="For a PROCESS: the deployed version (default latest)."
)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="The SVG file (default TARGET.svg).")
@command
def diagram_cmd(ctx: Context, target: str, version: int | None, out_file: str | None) -> None:
    """Draw a deployed PROCESS, or where case INSTANCE stands (path, current tasks, timers, overdue), as SVG."""
    from .engine import workbench
    from .engine.diagram import case

    if target.isdigit():
        svg = case.instance_svg(ctx.engine, target, user=ctx.user)
        out = out_file or f"case-{target}.svg"
    else:
        svg = case.process_svg(ctx.engine, target, version)
        out = out_file or f"{target}.svg"
    workbench.write_text(out, svg)
    click.echo(f"wrote {out}")


def _hall_settings(ctx: Context) -> dict:
    """hall.yaml as the hall's commands read it: with the hall's confidential and first-receiver rules."""
    from .servicehall import access

    return access.with_defaults(ctx.settings)


if __name__ == "__main__":
    main()
