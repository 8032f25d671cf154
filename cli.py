"""`hall`: the command line of the hall workflow engine. Thin: parse, call the API, print."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import update_wrapper
from typing import Any

import click


class Context:
    """Global options; the engine is opened lazily so `hall --help` never touches a database."""

    def __init__(
        self, db: str, user: str | None, now: str | None, forms: str, config: str | None, url: str | None = None
    ) -> None:
        self.db, self.user, self.now_text, self.forms_dir, self.config_path = db, user, now, forms, config
        self.url = url or None
        self._engine: Any = None
        self._settings: dict | None = None
        self.noticed = False
        self.warned = False

    @property
    def engine(self) -> Any:
        """The API the commands call: the Engine on the database, or with --url / HALL_URL the client
        of `hall serve` with the same methods and return shapes (open_api)."""
        if self._engine is None:
            self._engine = open_api(self)
        return self._engine

    @property
    def remote(self) -> bool:
        """Whether the commands talk to `hall serve` (--url / HALL_URL) instead of the database."""
        return self.url is not None

    @property
    def settings(self) -> dict:
        """hall.yaml, read once; a missing ./hall.yaml means defaults and one notice line on stderr,
        a missing file named by --config / HALL_CONFIG is an error."""
        settings = self.read_settings()
        if not self.noticed:
            from .engine.config import missing_notice

            self.noticed = True
            notice = missing_notice(self.config_path)
            if notice:
                click.echo(f"notice: {notice}", err=True)
        return settings

    def read_settings(self) -> dict:
        """hall.yaml, read once, without the notice (the language is chosen before any command runs,
        and a command that never reads its settings prints no notice)."""
        if self._settings is None:
            from .servicehall.config import load_config  # the engine's sections and the hall's

            self._settings = load_config(self.config_path)
        return self._settings

    @property
    def tz(self) -> Any:
        """The hall's time zone (hall.yaml calendar.timezone), for the times people read."""
        from zoneinfo import ZoneInfo

        cal = self.settings.get("calendar") or {}
        return ZoneInfo(str(cal.get("timezone") or "Asia/Shanghai"))

    def locale(self) -> str:
        """HALL_LANG, else hall.yaml display.locale, else zh_CN (a broken hall.yaml: its command says so)."""
        from .terminal import i18n

        if i18n.normalise(os.environ.get(i18n.ENV)):
            return i18n.choose(None)
        try:
            display = self.read_settings().get("display") or {}
        except Exception as exc:  # a broken hall.yaml: its own command says so, in the default language
            if not is_hall_error(exc):
                raise
            display = {}
        return i18n.choose(display.get("locale") if isinstance(display, dict) else None)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()


def work_calendar(ctx: Context) -> Any:
    """The hall's working calendar, that "time left" counts by: the engine's, or in client mode the one
    of this machine's hall.yaml (the client loads no engine for it: no database, no SpiffWorkflow)."""
    if ctx.url is None:
        return ctx.engine.deadlines.calendar
    from .engine.timing import CalendarDeadlines

    return CalendarDeadlines.from_settings(ctx.settings).calendar


def open_api(ctx: Context) -> Any:
    """The one factory of the commands' API object: with --url / HALL_URL the HTTP client of `hall
    serve` (which imports neither SQLAlchemy nor SpiffWorkflow), else the Engine on the database
    (embedded mode: it trusts whoever holds the database file or URL)."""
    if ctx.url is not None:
        from .client import Client

        if ctx.now_text:
            parse_now(ctx.now_text)  # the same one-line errors as embedded; the server decides the rest
        client = Client(ctx.url, now=ctx.now_text)
        try:
            check_login(ctx, client)
        except BaseException:
            client.close()
            raise
        return client
    from .engine import Engine
    from .engine.clock import Clock, FixedClock
    from .servicehall import access

    settings = ctx.settings
    clock = FixedClock(parse_now(ctx.now_text)) if ctx.now_text else Clock()
    # the database: --db > HALL_DB > hall.yaml `database:` > ./hall.db
    url = ctx.db or settings.get("database") or "hall.db"
    forms = ctx.forms_dir or settings.get("forms") or "forms"  # --forms > HALL_FORMS > forms: > ./forms
    # the hall's confidential and first-receiver rules where hall.yaml leaves them out
    engine = Engine(url, clock=clock, forms_dir=forms, settings=access.with_defaults(settings))
    engine.require_user = True  # with users configured, who acts must be named (--user)
    return engine


def check_login(ctx: Context, client: Any) -> None:
    """In client mode the server acts as its token's user: a --user naming someone else is an error
    (a token from HALL_TOKEN, or the Unix socket's OS login: the server says whose it is); without
    --user, the user logged in."""
    from .client import RemoteError

    if ctx.user is not None and client.login_user is None and (client.token or client.socket):
        client.login_user = client.me()["id"]
    if ctx.user is not None and client.login_user is not None and ctx.user != client.login_user:
        raise RemoteError(
            f"--user {ctx.user} is not who is logged in to {client.url} ({client.login_user}): "
            "the server acts as its token's user; `hall login` as the other user"
        )
    ctx.user = ctx.user or client.login_user


def is_hall_error(exc: BaseException) -> bool:
    """A HallError of the engine or a RemoteError of the client: one line and its exit status. (The
    engine's errors module is looked up, not imported: the client path must not load the engine.)"""
    from .client import RemoteError

    errors = sys.modules.get("hall.engine.errors")
    return isinstance(exc, RemoteError) or (errors is not None and isinstance(exc, errors.HallError))


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
        from .engine.dataio import shown
        from .terminal import i18n

        try:
            i18n.use(ctx.locale())
            check_arguments(ctx, kwargs)
            return fn(ctx, *args, **kwargs)
        except Exception as exc:
            if not is_hall_error(exc):
                raise
            from .terminal.errors import error_text

            click.echo(f"error: {shown(error_text(exc))}", err=True)  # printable whatever the input held
            sys.exit(getattr(exc, "exit_code", 1))
        finally:
            ctx.close()

    return update_wrapper(wrapper, fn)


def check_arguments(ctx: Context, kwargs: dict[str, Any]) -> None:
    """DataInvalid for an argument or option that is not UTF-8 text (bytes the terminal passed as
    they were: Python keeps them as lone surrogates, which no database, file or terminal takes)."""
    from .engine.dataio import shown, text_problem
    from .engine.errors import DataInvalid

    given = {"--db": ctx.db, "--user": ctx.user, "--now": ctx.now_text, "--forms": ctx.forms_dir}
    given.update({"--config": ctx.config_path, **kwargs})
    current = click.get_current_context(silent=True)
    spelled = (
        {p.name: (p.opts[0] if p.opts[0].startswith("-") else p.opts[0].upper()) for p in current.command.params}
        if current
        else {}
    )
    for name, value in given.items():
        for text in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(text, str) and text_problem(text):
                where = spelled.get(name, name)
                raise DataInvalid(f"{where} '{shown(text)}'", "is not UTF-8 text (check the terminal's encoding)")


def emit(data: Any, as_json: bool, human: Callable[[Any], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        human(data)


# -- what people read (terminal/): one table function, one local-time function, tr() to translate ----
def show_table(
    headers: list[str], rows: list[list[Any]], states: list[str | None] | None = None, right: tuple[int, ...] = ()
) -> None:
    """Print rows under translated headers, lined up by display width; overdue/soon rows coloured
    on a terminal (never with NO_COLOR). `right`: indexes of columns aligned right (numbers)."""
    from .terminal.i18n import tr
    from .terminal.table import colour_wanted, table

    colour = colour_wanted(sys.stdout.isatty())
    click.echo(table([tr(h) for h in headers], rows, states=states, colour=colour, right=right))


def when(ctx: Context, moment: Any) -> str:
    """A stored time (ISO UTC) as people read it: local time in the hall's time zone, to the minute."""
    from .terminal.timefmt import local

    return local(moment, ctx.tz)


def working(message: str, **values: Any) -> Any:
    """A context manager showing a translated message with a spinner on stderr while a long command
    works, only when stderr is a terminal (terminal/progress.py)."""
    from .terminal.i18n import tr
    from .terminal.progress import working as spinner

    return spinner(tr(message, **values), sys.stderr, sys.stderr.isatty())


def say(message: str, **values: Any) -> None:
    """One translated line on stdout (`message` is the English msgid, `values` fill its {fields})."""
    from .terminal.i18n import tr

    click.echo(tr(message, **values))


EXAMPLES = """\b
Examples (a clerk's day):
  hall tasks --mine                     # my queue, most urgent first
  hall find TS20261124-0002             # a case by its number, company or phone
  hall claim 12 && hall complete 12     # take a task and fill in its form
  hall notice 7 receipt --out r.html    # the complaint receipt to print (R-C1)

\b
Shell completion (bash; zsh and fish alike, see README):
  eval "$(_HALL_COMPLETE=bash_source hall)"
"""

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document (stable contract).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXAMPLES)
@click.version_option(package_name="hall", prog_name="hall", message="%(prog)s %(version)s")
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
    help="Run at a simulated time (ISO with offset): on a rehearsal database (hall init --rehearsal), or with "
    "the simulate_time permission and not later than now. Env HALL_NOW.",
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
@click.option(
    "--url",
    envvar="HALL_URL",
    default=None,
    help="Talk to `hall serve` at this address instead of opening the database. Env HALL_URL.",
)
@click.pass_context
def main(
    click_ctx: click.Context,
    db: str,
    user: str | None,
    now: str | None,
    forms: str,
    config: str | None,
    url: str | None,
) -> None:
    """hall: run BPMN processes (service hall, complaints) with forms, deadlines and history."""
    click_ctx.obj = Context(db, user, now, forms, config, url)


# -- schema and definitions ------------------------------------------------------------------
@main.command()
@click.option(
    "--reindex", is_flag=True, help="Index every case anew for `hall find` (after hall.yaml's cases.search changed)."
)
@click.option(
    "--rehearsal", is_flag=True, help="Make a new database for rehearsals: --now is allowed on it (see Security)."
)
@command
def init(ctx: Context, reindex: bool, rehearsal: bool) -> None:
    """Create the database schema, or upgrade an older one without losing data."""
    result = ctx.engine.init(rehearsal=rehearsal)
    before = result["schema_before"]
    if before == result["schema"]:
        click.echo(f"{result['database']}: schema already at version {before}")
    else:
        click.echo(f"{result['database']}: schema version {before or 'none'} -> {result['schema']}")
    if reindex:
        with working("indexing every case for hall find"):
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
        report = (lambda line: click.echo(line, err=True)) if as_json else click.echo
        if not workbench.check_deploy(
            ctx.engine, paths or ("processes",), _hall_settings(ctx), forms, report, ctx.user
        ):
            if not force:
                click.echo(
                    "error: deploy refused: a scenario of a changed process failed (--force deploys anyway)", err=True
                )
                sys.exit(1)
            report("deploying anyway (--force)")
    from .terminal.i18n import tr
    from .terminal.progress import steps

    start = tr("checking and deploying {paths}", paths=", ".join(paths or ("processes",)))
    with steps(start, sys.stderr, sys.stderr.isatty()) as step:

        def progress(phase: str, name: str, done: int, total: int) -> None:
            """Each file checked, then each process stored, on the terminal's progress bar."""
            text = tr("checking {file}", file=name) if phase == "check" else tr("storing {process}", process=name)
            step(text, done, total)

        results = ctx.engine.deploy(paths or ("processes",), user=ctx.user, progress=progress)

    def human(rows: list[dict]) -> None:
        from .terminal.i18n import tr

        for r in rows:
            if r["changed"]:
                what = tr("deployed as version {v}", v=r["version"])
            else:
                what = tr("unchanged (version {v})", v=r["version"])
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
    rows = ctx.engine.definitions()
    if not rows:
        say("no process deployed yet: `hall deploy` stores the diagrams of processes/")
        return
    show_table(
        ["process", "version", "name", "deployed", "running", "file"],
        [
            [
                d["process"],
                f"v{d['version']}" + (" (withdrawn)" if d["withdrawn"] else ""),
                d["name"],
                when(ctx, d["deployed_at"]),
                d["running"],
                d["file"],
            ]
            for d in rows
        ],
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
        from .terminal.i18n import tr

        if not rows:
            say("no instances")
            return
        show_table(
            ["id", "process", "version", "status", "number", "started", "customer"],
            [
                [
                    r["id"],
                    r["process"],
                    f"v{r['version']}" if r.get("version") else "-",
                    tr(r["status"]),
                    r["business_key"],
                    when(ctx, r["started_at"]),
                    r.get("customer"),
                ]
                for r in rows
            ],
            right=(0,),
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
        from .terminal.i18n import tr

        if not rows:
            say("no case found for {text}", text=repr(text))
            return
        show_table(
            ["id", "process", "version", "status", "number", "customer", "matched"],
            [
                [
                    r["id"],
                    r["process"],
                    f"v{r['version']}" if r.get("version") else "-",
                    tr(r["status"]),
                    r["business_key"],
                    r["customer"],
                    "; ".join(f"{m['field']}={m['value']}" for m in r["matches"]),
                ]
                for r in rows
            ],
            right=(0,),
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
            say("no incidents")
            return
        show_table(
            ["instance", "process", "element", "error", "since"],
            [[r["instance"], r["process"], r["element"], r["error"], when(ctx, r["since"])] for r in rows],
            right=(0,),
        )

    emit(ctx.engine.incidents(user=ctx.user), as_json, human)


@main.command()
@click.argument("instance", required=False)
@json_option
@command
def history(ctx: Context, instance: str | None, as_json: bool) -> None:
    """Everything that happened to an instance, oldest first; without INSTANCE, the hall-wide
    events that have no case (refused deploys, purges, reports)."""

    def human(rows: list[dict]) -> None:
        from .terminal.i18n import tr

        if not rows:
            say("no history")
            return
        show_table(
            ["time", "who", "what", "element", "detail"],
            [
                [
                    when(ctx, h["at"]),
                    h["actor"],
                    tr(h["kind"]),
                    h["element"],
                    json.dumps(h["detail"], ensure_ascii=False) if h["detail"] else "",
                ]
                for h in rows
            ],
        )

    emit(ctx.engine.history(instance, user=ctx.user), as_json, human)


@main.command()
@click.argument("target", nargs=-1, required=True, metavar="[INSTANCE] NAME")
@click.option("--key", help="The correlation key (the waiting case's business key unless its diagram says otherwise).")
@click.option("--process", help="Only cases of this process, or start one by its message start event.")
@set_option
@data_option
@command
def message(
    ctx: Context,
    target: tuple[str, ...],
    key: str | None,
    process: str | None,
    sets: tuple[str, ...],
    data_file: str | None,
) -> None:
    """Deliver message NAME (payload from --set/--data): to INSTANCE, or to the one case waiting for it
    with --key, else start a case by its message start event (docs/bpmn.md, messages)."""
    if len(target) > 2 or (len(target) == 2 and (key is not None or process is not None)):
        raise click.UsageError("give INSTANCE NAME, or NAME with --key/--process")
    payload = read_data(sets, data_file) or None
    if len(target) == 2:
        print_instance(ctx, ctx.engine.send_message(target[0], target[1], payload, user=ctx.user))
    else:
        print_instance(ctx, ctx.engine.correlate_message(target[0], payload, key, process, user=ctx.user))


@main.command()
@click.argument("name")
@set_option
@data_option
@json_option
@command
def signal(ctx: Context, name: str, sets: tuple[str, ...], data_file: str | None, as_json: bool) -> None:
    """Broadcast signal NAME: every case waiting for it catches it (with the --set/--data variables),
    every process with a signal start event for it starts a case."""
    sent = ctx.engine.send_signal(name, read_data(sets, data_file) or None, user=ctx.user)

    def human(d: dict) -> None:
        click.echo(f"signal {d['signal']}: reached {len(d['reached'])} case(s) {d['reached']}, started {d['started']}")

    emit(sent, as_json, human)


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
    """The work queue: ready tasks, most urgent first, with the (working) time left.

    \b
    Examples:
      hall --user 小陈 tasks --mine
      hall tasks --role 备案窗口 --limit 20
      hall tasks --json | jq '.[0]'
    """
    if mine:
        if not ctx.user:
            from .engine.errors import HallError  # here only: the client path does not load the engine

            raise HallError("--mine needs a user: pass --user or set HALL_USER")
        assignee = ctx.user
    rows = ctx.engine.tasks(
        role=role, assignee=assignee, process=process, instance=instance, user=ctx.user, limit=limit
    )
    notice_cut(rows, "tasks")

    def human(rows: list[dict]) -> None:
        from .terminal.timefmt import due_text

        if not rows:
            say("no tasks")
            return
        now = ctx.engine.clock.now()
        calendar = work_calendar(ctx)
        warn_provisional(ctx, rows)
        dues = [due_text(t, now, calendar) for t in rows]
        show_table(
            ["id", "time left", "role", "case", "number", "task", "customer", "claimed by"],
            [
                [
                    t["id"],
                    due[0],
                    t["role"],
                    f"{t['process']}#{t['instance']}",
                    t.get("business_key"),
                    t["title"],
                    t.get("customer"),
                    t["assignee"],
                ]
                for t, due in zip(rows, dues)
            ],
            states=[due[1] for due in dues],
            right=(0,),
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


@main.command()
@click.argument("task_id")
@command
def task(ctx: Context, task_id: str) -> None:
    """Show one task as the staff member sees it (the form's instructions and fields)."""
    from .terminal.i18n import tr

    view = ctx.engine.task(task_id, user=ctx.user)
    name = f" ({view['name']})" if view["name"] else ""
    click.echo(
        tr(
            "task {id}: {title}{name}  [{status}]",
            id=view["id"],
            title=view["title"],
            name=name,
            status=tr(view["status"]),
        )
    )
    click.echo(
        "  "
        + tr(
            "process {process} #{instance}  key {key}  role {role}  assignee {assignee}  due {due}",
            process=view["process"],
            instance=view["instance"],
            key=view["business_key"] or "-",
            role=view["role"] or "-",
            assignee=view["assignee"] or "-",
            due=when(ctx, view["due_at"]),
        )
        + (
            tr("~ (provisional: the holiday schedule of that year is not published yet)")
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
            if f.help:  # what the form's author wrote for staff (docs/forms.md)
                click.echo(f"      {f.help}")


@main.command()
@click.argument("task_id")
@command
def claim(ctx: Context, task_id: str) -> None:
    """Take a task so that it is yours."""
    t = ctx.engine.claim(task_id, ctx.user)
    say("task {id} ({title}) claimed by {who}", id=t["id"], title=t["title"], who=t["assignee"])


@main.command()
@click.argument("task_id")
@command
def unclaim(ctx: Context, task_id: str) -> None:
    """Give a claimed task back to its role's queue."""
    t = ctx.engine.unclaim(task_id, ctx.user)
    say("task {id} ({title}) is back in the {role} queue", id=t["id"], title=t["title"], role=t["role"])


@main.command()
@click.argument("task_id")
@set_option
@data_option
@json_option
@command
def complete(ctx: Context, task_id: str, sets: tuple[str, ...], data_file: str | None, as_json: bool) -> None:
    """Complete a task with data; at a terminal, asks its form field by field, then a review.

    Conditional fields are asked when their condition holds; choices take a number or the start
    of their text; Ctrl-C or q keeps a draft that the next `hall complete TASK` resumes.

    \b
    Examples:
      hall complete 12                          # asked at the terminal
      hall complete 12 --set 备案意见=同意备案    # given, nothing asked for it
      hall complete 12 --data answers.yaml      # from a file (YAML or JSON)
    """
    from .terminal.i18n import tr

    data = read_data(sets, data_file)
    answers = None
    if stdin_is_terminal():  # with --json the questions go to stderr: stdout stays one JSON document
        data, answers = prompt_form(ctx, task_id, data, err=as_json)
    try:
        view = ctx.engine.complete(task_id, data, user=ctx.user)
    except Exception as exc:
        if not is_form_invalid(exc):
            raise
        if answers:  # what was typed stays: the next `hall complete` starts from it
            ctx.engine.save_draft(task_id, answers, user=ctx.user)
            click.echo(tr("draft kept: `hall complete {task}` goes on from here", task=task_id), err=True)
        raise
    if answers is not None:
        ctx.engine.discard_draft(task_id, user=ctx.user)
    emit(view, as_json, lambda v: print_instance(ctx, v))


def is_form_invalid(exc: BaseException) -> bool:
    """A submit the form refused: the engine's FormInvalid, or the server's (a RemoteError naming it)."""
    from .engine.errors import FormInvalid

    return isinstance(exc, FormInvalid) or getattr(exc, "kind", None) == "FormInvalid"


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def prompt_form(ctx: Context, task_id: str, data: dict, err: bool = False) -> tuple[dict, dict | None]:
    """Ask the task's form at the terminal (terminal/prompt.py): (the data to submit, the answers to
    the form, None when there is no form to ask). Every answer is kept as a draft; Ctrl-C or `q` at the review stops with the draft kept,
    and the next `hall complete TASK` fills its answers in again."""
    from .terminal.i18n import tr
    from .terminal.prompt import FormPrompt, Stopped
    from .terminal.timefmt import local

    eng = ctx.engine
    view = eng.task(task_id, user=ctx.user)
    form = eng.form(view["form"])
    if form is None:
        return data, None
    text = eng.render_task(task_id, user=ctx.user)
    if text.strip():
        click.echo(text.rstrip(), err=err)
    given = dict(data)
    draft = eng.draft(task_id, user=ctx.user)
    if draft is not None:
        click.echo(tr("resuming your draft of {at}", at=local(draft["saved_at"], ctx.tz)), err=err)
        given = {**draft["data"], **data}

    def ask(question: str) -> str:
        try:
            return str(click.prompt(question, default="", show_default=False, err=err))
        except click.Abort:  # Ctrl-C, or the end of the input
            raise KeyboardInterrupt from None

    def save(values: dict) -> None:
        eng.save_draft(task_id, values, user=ctx.user)

    session = FormPrompt(
        form,
        ask,
        lambda line: click.echo(line, err=err),
        given=given,
        offered=view.get("variables") or {},
        warn=lambda line: click.echo(line, err=True),
        tz=ctx.tz,
    )
    try:
        answers = session.run()
    except (KeyboardInterrupt, Stopped) as stop:
        if session.values:
            save(session.values)
            click.echo("", err=True)
            click.echo(tr("draft kept: `hall complete {task}` goes on from here", task=view["id"]), err=True)
        else:
            click.echo(tr("stopped: nothing was typed, nothing kept"), err=True)
        sys.exit(130 if isinstance(stop, KeyboardInterrupt) else 1)
    return {**{k: v for k, v in data.items() if k not in answers}, **answers}, answers


def print_instance(ctx: Context, v: dict, variables: bool = False) -> None:
    from .terminal.i18n import tr
    from .terminal.timefmt import due_text

    key = v["business_key"] or "-"
    say("instance {id}  {process} v{version}  key {key}  [{status}]", **v | {"key": key, "status": tr(v["status"])})
    if v.get("incident"):
        say("  incident at {element}: {error}", **v["incident"])
    links = v.get("links") or {}
    if links.get("parent"):
        p = links["parent"]
        say(
            "  started from {process} #{id} ({key}, {status})",
            **p | {"key": p["business_key"] or "-", "status": tr(p["status"])},
        )
    for c in links.get("children") or []:
        say(
            "  linked {process} #{id} ({key}, {status})",
            **c | {"key": c["business_key"] or "-", "status": tr(c["status"])},
        )
    now = ctx.engine.clock.now()
    calendar = work_calendar(ctx)
    warn_provisional(ctx, v["tasks"])
    for t in v["tasks"]:
        due = due_text(t, now, calendar)[0]
        say("  task {id}: {title} [{role}] {due}", id=t["id"], title=t["title"], role=t["role"] or "-", due=due)
    for tm in v.get("timers") or []:
        say("  timer {element} due {at}", element=tm["element"], at=when(ctx, tm["due_at"]))
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


def directory(ctx: Context) -> Any:
    """The users kept in the database (or on the server), or None while the database has none and
    hall.yaml's apply (a missing database too: the single desk of a fresh install)."""
    if ctx.remote:
        return ctx.engine.directory
    try:
        found = ctx.engine.directory
        return found if found.in_database() else None
    except Exception as exc:
        if is_hall_error(exc):
            return None
        raise


@main.group("user")
def user_group() -> None:
    """Users who act and their roles: in the database once it has users (`hall user import`),
    before that in hall.yaml."""


@user_group.command("add")
@click.argument("user_id")
@click.option("--name", help="Full name (default: the id).")
@click.option("--role", "roles", multiple=True, required=True, help="A role (repeatable).")
@click.option("--organisation", help="The agency or department the user works for.")
@click.option("--service", is_flag=True, help="A service account for an integrator's system (tokens, no password).")
@command
def user_add(
    ctx: Context, user_id: str, name: str | None, roles: tuple[str, ...], organisation: str | None, service: bool
) -> None:
    """Add a user: to the database once it has users (needs `admin`), else to hall.yaml."""
    found = directory(ctx)
    if found is not None:
        u = found.add_user(user_id, name, list(roles), organisation, "service" if service else "person", user=ctx.user)
        click.echo(f"user {u['id']} ({u['name']}): {', '.join(u['roles'])} (kept in the database)")
        return
    f = config_file(ctx)
    f.add_user(user_id, name, list(roles))
    f.save()
    click.echo(
        f"{f.path}: {'created with ' if f.created else ''}user {user_id} ({name or user_id}): {', '.join(roles)}"
    )


@user_group.command("set")
@click.argument("user_id")
@click.option("--name", help="New full name.")
@click.option("--role", "roles", multiple=True, help="The user's roles from now on (repeatable).")
@click.option("--organisation", help="The agency or department.")
@command
def user_set(ctx: Context, user_id: str, name: str | None, roles: tuple[str, ...], organisation: str | None) -> None:
    """Change a user kept in the database (needs `admin`)."""
    u = ctx.engine.directory.set_user(user_id, name, list(roles) or None, organisation, user=ctx.user)
    click.echo(f"user {u['id']} ({u['name']}): {', '.join(u['roles'])}")


@user_group.command("remove")
@click.argument("user_id")
@command
def user_remove(ctx: Context, user_id: str) -> None:
    """Remove a user kept in the database and revoke their tokens (needs `admin`); history stays."""
    ctx.engine.directory.remove_user(user_id, user=ctx.user)
    click.echo(f"user {user_id} removed; their tokens are revoked")


@user_group.command("password")
@click.argument("user_id")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@command
def user_password(ctx: Context, user_id: str, password_stdin: bool) -> None:
    """Set a user's password for `hall login` (an admin for anyone, a user for themself)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True, err=True)
    ctx.engine.directory.set_password(user_id, password, user=ctx.user)
    click.echo(f"password of {user_id} set")


@user_group.command("import")
@command
def user_import(ctx: Context) -> None:
    """Seed the database's users, roles and access rules from hall.yaml, once; from then on hall.yaml's
    users are not used and no configuration file turns the checks off."""
    # with the hall's case rules where hall.yaml leaves them out (servicehall.access), as the engine has them
    result = ctx.engine.directory.import_config(ctx.engine.settings, user=ctx.user)
    click.echo(f"imported {result['users']} users and {result['roles']} roles into the database")


@user_group.command("list")
@json_option
@command
def user_list(ctx: Context, as_json: bool) -> None:
    """The users, their roles and what those allow."""
    from .engine.access import People

    found = directory(ctx)
    if found is not None:
        rows = found.users()
    else:
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
            say("no users configured: everybody may do everything (add one with `hall user add`)")
            return
        show_table(
            ["user", "name", "roles", "may"],
            [[r["id"], r["name"], ", ".join(r["roles"]), ", ".join(r["may"])] for r in rows],
        )

    emit(rows, as_json, human)


@main.group("role")
def role_group() -> None:
    """Roles: the lanes / candidate groups they serve and their permissions (in the database once it
    has users, before that in hall.yaml)."""


@role_group.command("list")
@json_option
@command
def role_list(ctx: Context, as_json: bool) -> None:
    """The roles."""
    from .engine.access import People

    found = directory(ctx)
    if found is not None:
        rows = found.roles()
    else:
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
            say("no roles configured: a role serves the lane of its own name, without permissions")
            return
        show_table(
            ["role", "serves", "may", "users"],
            [[r["role"], ", ".join(r["serves"]), ", ".join(r["may"]), ", ".join(r["users"])] for r in rows],
        )

    emit(rows, as_json, human)


@role_group.command("add")
@click.argument("name")
@click.option("--serves", multiple=True, help="A lane or candidate group (repeatable; default: NAME).")
@click.option("--may", multiple=True, help="A permission: confidential, reassign, manage, see_all, deploy, admin.")
@command
def role_add(ctx: Context, name: str, serves: tuple[str, ...], may: tuple[str, ...]) -> None:
    """Add or change a role: in the database once it has users (needs `admin`), else in hall.yaml."""
    found = directory(ctx)
    if found is not None:
        found.put_role(name, list(serves), list(may), user=ctx.user)
        click.echo(f"role {name} serves {', '.join(serves or (name,))}" + (f", may {', '.join(may)}" if may else ""))
        return
    f = config_file(ctx)
    f.add_role(name, list(serves), list(may))
    f.save()
    click.echo(
        f"{f.path}: role {name} serves {', '.join(serves or (name,))}" + (f", may {', '.join(may)}" if may else "")
    )


# -- tokens and the server (issue 16; docs/deploying.md) ------------------------------------------
@main.group("token")
def token_group() -> None:
    """Tokens for `hall serve`: service accounts' for integrators, listed and revoked by an admin."""


@token_group.command("issue")
@click.argument("user_id")
@click.option("--label", help="What the token is for (e.g. the integrating system).")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3660), help="Days until it expires.")
@json_option
@command
def token_issue(ctx: Context, user_id: str, label: str | None, days: int, as_json: bool) -> None:
    """Issue a token for USER_ID (needs `admin`); the secret is shown this once."""
    t = ctx.engine.directory.issue_token(user_id, label, days, user=ctx.user)
    emit(t, as_json, lambda t: click.echo(f"{t['token']}\n(token of {t['user']}, expires {t['expires_at']})"))


@token_group.command("list")
@json_option
@command
def token_list(ctx: Context, as_json: bool) -> None:
    """Every token's id, user, label, expiry and state, never the secret (needs `admin`)."""

    def human(rows: list[dict]) -> None:
        if not rows:
            click.echo("no tokens")
        for r in rows:
            click.echo(f"{r['id']:>5}  {r['user']:<12} {r['state']:<8} expires {r['expires_at']}  {r['label'] or ''}")

    emit(ctx.engine.directory.tokens(user=ctx.user), as_json, human)


@token_group.command("revoke")
@click.argument("token_id", type=int)
@command
def token_revoke(ctx: Context, token_id: int) -> None:
    """Revoke a token by its id (`hall token list`; needs `admin`)."""
    ctx.engine.directory.revoke_token(token_id, user=ctx.user)
    click.echo(f"token {token_id} revoked")


@main.command()
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3660), help="Days until it expires.")
@command
def login(ctx: Context, password_stdin: bool, days: int) -> None:
    """Log in to `hall serve` (--url / HALL_URL) as --user: the token is kept in the user's config folder."""
    from .client import Client, RemoteError, save_login

    if not ctx.url:
        raise RemoteError("hall login needs the server's address: --url or HALL_URL")
    user = ctx.user or click.prompt("user", err=True)
    password = (
        sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt("password", hide_input=True, err=True)
    )
    client = Client(ctx.url)
    try:
        t = client.directory.login(user, password, days)
    finally:
        client.close()
    path = save_login(client.url, t)
    click.echo(f"logged in to {client.url} as {t['user']} until {t['expires_at']} (token in {path})")


@main.command()
@command
def logout(ctx: Context) -> None:
    """Revoke this login's token on the server and forget it."""
    from .client import RemoteError, save_login

    if not ctx.url:
        raise RemoteError("hall logout needs the server's address: --url or HALL_URL")
    client = ctx.engine
    try:
        client.directory.logout(client.token or "")
    finally:
        save_login(client.url, None)
    click.echo(f"logged out of {client.url}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8420, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option(
    "--threads",
    type=click.IntRange(0, 64),
    default=None,
    help="Worker threads for the engine's calls (default: 0 on SQLite, its one writer takes them in turn; "
    "4 on PostgreSQL).",
)
@click.option(
    "--socket",
    "socket_path",
    metavar="PATH",
    help="Listen on this Unix socket instead: callers on this machine are their OS login, no token (Linux).",
)
@command
def serve(ctx: Context, host: str, port: int, socket_path: str | None, threads: int | None) -> None:
    """Serve the hall over HTTP: the REST API (/v1, /openapi.json, /health, /ready) for staff and
    integrators, each request acting as its token's user (docs/deploying.md)."""
    from .server import run

    if ctx.url:
        from .client import RemoteError

        raise RemoteError("hall serve opens the database itself: unset HALL_URL / --url")
    if ctx.now_text:
        from .client import RemoteError

        raise RemoteError(
            "hall serve runs on the real clock: a client's --now asks for a simulated time per request "
            "(refused unless the database is a rehearsal one)"
        )
    eng = ctx.engine
    eng.close()
    run.serve(eng.store.url, eng.settings, eng.forms_dir, host, port, socket=socket_path, threads=threads)


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
@click.option("--verbose", "-v", is_flag=True, help="Also log the worker's start, stale and released timers (DEBUG).")
@json_option
@command
def worker(
    ctx: Context,
    once: bool,
    batch: int,
    lease: float,
    poll: float,
    max_attempts: int,
    group: int,
    verbose: bool,
    as_json: bool,
) -> None:
    """Fire due timers, logging one line per firing (INFO), retry (WARNING) and incident (ERROR); runs
    until SIGTERM/Ctrl-C unless --once.

    \b
    Examples:
      hall worker                 # the hall's worker, as a service
      hall worker --once          # from cron, every minute
      hall worker --once -v       # also what it skipped and why
    """
    from .terminal.worklog import event_logger

    log = event_logger(verbose, stream=None if as_json else sys.stdout)
    log.debug(
        "worker starting: batch %d, lease %.0f s, poll %.0f s, max attempts %d%s",
        batch,
        lease,
        poll,
        max_attempts,
        " (once)" if once else "",
    )

    summary = ctx.engine.run_due_jobs(
        once=once,
        batch=batch,
        lease=lease,
        poll=poll,
        max_attempts=max_attempts,
        group=group,
        on_event=log.event,
        user=ctx.user,
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
    from .terminal.indicators import kpi_lines

    eng = ctx.engine
    period = kpi.period_from(date_from, date_to, eng.clock.now(), eng.deadlines.calendar.config.timezone)
    emit(kpi.indicators(eng, period, user=ctx.user), as_json, lambda k: click.echo("\n".join(kpi_lines(k, ctx.tz))))


@main.command("report")
@click.argument("kind", type=click.Choice(["daily", "weekly", "monthly", "quarterly", "half-year", "yearly", "due"]))
@click.option(
    "--date", "day", metavar="DATE", help="The day the report is made (default today): it covers the period before it."
)
@click.option("--out", "out_dir", metavar="DIR", help="Reports folder (default reports/, or reports.out).")
@json_option
@command
def report_cmd(ctx: Context, kind: str, day: str | None, out_dir: str | None, as_json: bool) -> None:
    """Write the daily/weekly/monthly/quarterly/half-year/yearly report (R-K3, R-K2), or list the reports `due`."""
    from .servicehall import kpi, reports
    from .terminal.indicators import due_lines, written_lines

    eng = ctx.engine
    when = kpi.parse_day(day, "--date") if day else None
    out = out_dir or reports.ReportsConfig.from_settings(eng.settings).out
    if kind == "due":
        rows = reports.due_reports(eng, out, when, user=ctx.user)
        emit(rows, as_json, lambda rows: click.echo("\n".join(due_lines(rows, str(out), ctx.tz))))
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
    click.echo("\n".join(written_lines(data, paths)))


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


@main.command("notice")
@click.argument("instance")
@click.argument("kind", type=click.Choice(["missing-items", "delay", "receipt"]))
@click.option("--out", "out_file", metavar="FILE", help="Write the HTML here instead of standard output.")
@command
def notice_cmd(ctx: Context, instance: str, kind: str, out_file: str | None) -> None:
    """Print a paper for the customer as HTML ready to print, from the case's data: the one-time list
    of missing items (missing-items, R-F3), the delay notice (delay, R-F5), the complaint receipt with
    its number (receipt, R-C1).

    \b
    Examples:
      hall notice 7 receipt --out 回执.html      # then open it in a browser and print
      hall notice 3 missing-items > 告知单.html
    """
    from .servicehall import notices

    html = notices.render(ctx.engine, instance, kind, user=ctx.user)
    if out_file:
        from pathlib import Path

        from .engine.errors import OutputNotWritable
        from .terminal.i18n import tr

        try:
            Path(out_file).write_text(html, encoding="utf-8")
        except OSError as exc:
            raise OutputNotWritable(out_file, exc.strerror or str(exc)) from None
        click.echo(
            tr("{title} of case {id} written to {file}", title=notices.PAPERS[kind].title, id=instance, file=out_file)
        )
    else:
        click.echo(html, nl=False)


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
    with working("archiving and deleting {n} case(s)", n=len(plan["delete"])):
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
