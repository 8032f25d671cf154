"""Configuration (`hall.yaml`): database, calendar, numbering patterns, process settings, people,
services, and any section a module built on the engine adds (`Schema.extended`).

A missing file means defaults. Every section is checked when the file is read (`load_config`) and by
`hall config check` (`check_config`, every problem): errors name the file and the line of the key.
The engine knows only its own sections (`ENGINE`); an application on top of it (the service hall's
indicators, reports and retention: hall.servicehall.config) passes a schema with its sections and
their checks, so the engine never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .dataio import plain
from .errors import ConfigInvalid, ConfigMissing

# A check of one section: given the whole plain configuration (`_source` = the file), it raises
# ConfigInvalid (its `what` starting with the dotted key), ValueError or TypeError for a problem.
Check = Callable[[dict[str, Any]], object]


@dataclass(frozen=True)
class Section:
    """One top-level section of the configuration file and the checks that read it.

    `split` names its sub-mappings whose entries are independent of each other: each entry is checked
    on its own, so every bad entry is reported, not only the first.
    """

    name: str
    checks: tuple[Check, ...] = ()
    split: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schema:
    """The sections a configuration file may have, in the order they are listed and checked."""

    sections: tuple[Section, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The known section names, in order (for `unknown section` messages)."""
        return tuple(s.name for s in self.sections)

    def extended(self, *more: Section, before: str | None = None) -> Schema:
        """This schema with more sections, inserted before the section `before` (else at the end);
        a section already known gains the checks and split keys of the one given."""
        sections = list(self.sections)
        for extra in more:
            known = next((i for i, s in enumerate(sections) if s.name == extra.name), None)
            if known is not None:
                old = sections[known]
                sections[known] = Section(old.name, old.checks + extra.checks, old.split + extra.split)
                continue
            at = next((i for i, s in enumerate(sections) if s.name == before), len(sections))
            sections.insert(at, extra)
        return Schema(tuple(sections))


def load_config(path: str | Path | None = None, schema: Schema | None = None) -> dict[str, Any]:
    """The configuration at `path`, or ./hall.yaml when present, or {} (all defaults), checked against
    `schema` (default: the engine's own sections); ConfigInvalid names the first problem's line."""
    schema = schema or ENGINE
    p = Path(path) if path else Path("hall.yaml")
    if not p.exists():
        if path:
            raise ConfigMissing(str(p))
        return {}
    data = read_yaml(p)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigInvalid(str(p), 1, "must be a mapping of sections")
    for key in data:
        if key not in schema.names:
            line = data.lc.key(key)[0] + 1 if hasattr(data, "lc") else None
            raise ConfigInvalid(str(p), line, f"unknown section {key!r} (known: {', '.join(schema.names)})")
    problems = check_people(data, str(p)) + check_sections(data, str(p), schema)
    if problems:
        raise min(problems, key=lambda e: e.line or 0)
    out = plain(data)
    out["_source"] = str(p)
    return out


def read_yaml(p: Path, yaml: Any = None) -> Any:
    """The round-trip YAML document of a file; ConfigInvalid (with the line) when it cannot be read."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigInvalid(str(p), None, f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    if not text.strip():
        return None
    try:
        doc = (yaml or YAML(typ="rt")).load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigInvalid(str(p), line, f"not valid YAML: {exc.problem}") from None
    except ReaderError as exc:  # a control character: YAML allows none but tab and newlines
        line = text[: exc.position].count("\n") + 1
        raise ConfigInvalid(str(p), line, f"not valid YAML: control character U+{_code(exc.character):04X}") from None
    except YAMLError as exc:
        raise ConfigInvalid(str(p), None, f"not valid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise ConfigInvalid(str(p), None, "not valid YAML: nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date such as 2026-13-01
        raise ConfigInvalid(str(p), _bad_scalar_line(text), f"not valid YAML: {exc}") from None
    if _expands_past(doc, MAX_VALUES):
        raise ConfigInvalid(
            str(p), None, f"expands to more than {MAX_VALUES:,} values (YAML aliases * repeating anchors &?)"
        )
    return doc


MAX_VALUES = 100_000  # a configuration is a few hundred values; an alias bomb expands to millions


def _expands_past(doc: Any, limit: int) -> bool:
    """Whether walking `doc` (aliases followed, as every check does) visits more than `limit` values."""
    count, stack = 0, [doc]
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _bad_scalar_line(text: str) -> int | None:
    """The line of the first date-like scalar that is not a real date (what ruamel fails to build)."""
    import re
    from datetime import date

    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    try:
        stack = [YAML(typ="rt").compose(text)]
    except Exception:  # noqa: BLE001 - only a hint for the line
        return None
    while stack:
        node = stack.pop(0)
        if isinstance(node, MappingNode):
            stack[:0] = [n for pair in node.value for n in pair]
        elif isinstance(node, SequenceNode):
            stack[:0] = list(node.value)
        elif node is not None and node.tag.endswith("timestamp"):
            m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", str(node.value))
            try:
                date(*map(int, m.groups())) if m else None
            except ValueError:
                return node.start_mark.line + 1
    return None


# -- users and roles (engine.access): checks with line numbers, and editing that keeps comments --------
def _line(node: Any, key: Any = None, index: int | None = None, value: bool = False) -> int | None:
    """1-based line of a key (or its value) or of a sequence item in a round-trip YAML node."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if index is not None:
            return lc.item(index)[0] + 1
        if key is not None:
            return (lc.value(key) if value else lc.key(key))[0] + 1
        return lc.line + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return lc.line + 1 if getattr(lc, "line", None) is not None else None


def _names(node: Any) -> bool:
    return isinstance(node, list) and all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in node)


def check_people(data: Any, path: str) -> list[ConfigInvalid]:
    """Every problem in the roles/users/confidential/first_receiver sections, with its line."""
    from .access import PERMISSIONS

    out: list[ConfigInvalid] = []

    def bad(line: int | None, what: str) -> None:
        out.append(ConfigInvalid(path, line, what))

    if not isinstance(data, dict):
        return out
    roles = data.get("roles")
    known_roles: set[str] | None = None
    if roles is not None:
        if not isinstance(roles, dict):
            bad(_line(data, "roles"), "roles: must be a mapping of role name to {serves: [...], may: [...]}")
        else:
            known_roles = {str(k) for k in roles}
            for name, spec in roles.items():
                where = f"roles.{name}"
                if spec is None:
                    continue
                if not isinstance(spec, dict):
                    bad(
                        _line(roles, name), f"{where}: must be a mapping like {{serves: [{name}], may: [confidential]}}"
                    )
                    continue
                for key in spec:
                    if key not in ("serves", "may", "description"):
                        bad(_line(spec, key), f"{where}: unknown key {key!r} (known: serves, may, description)")
                if "serves" in spec and not _names(spec["serves"]):
                    bad(_line(spec, "serves"), f"{where}.serves: must be a list of lane / candidate group names")
                may = spec.get("may")
                if may is not None:
                    if not _names(may):
                        bad(
                            _line(spec, "may"), f"{where}.may: must be a list of permissions ({', '.join(PERMISSIONS)})"
                        )
                    else:
                        for i, perm in enumerate(may):
                            if perm not in PERMISSIONS:
                                bad(
                                    _line(may, index=i) or _line(spec, "may"),
                                    f"{where}.may: unknown permission {perm!r} (known: {', '.join(PERMISSIONS)})",
                                )
    users = data.get("users")
    if users is not None:
        if not isinstance(users, list):
            bad(_line(data, "users"), "users: must be a list of {id: ..., name: ..., roles: [...]}")
        else:
            seen: dict[str, int] = {}
            for i, spec in enumerate(users):
                where = f"users[{i}]"
                line = _line(users, index=i)
                if not isinstance(spec, dict):
                    bad(line, f"{where}: must be a mapping like {{id: 小王, name: 王晓, roles: [前台接待]}}")
                    continue
                for key in spec:
                    if key not in ("id", "name", "roles", "organisation"):
                        bad(_line(spec, key), f"{where}: unknown key {key!r} (known: id, name, roles, organisation)")
                uid = spec.get("id")
                if uid is None or isinstance(uid, (bool, dict, list)) or not str(uid).strip():
                    bad(line, f"{where}.id: every user needs an id (what --user gives)")
                else:
                    uid = str(uid)
                    if uid in seen:
                        bad(_line(spec, "id"), f"{where}.id: duplicate user {uid!r} (also users[{seen[uid]}])")
                    seen.setdefault(uid, i)
                if "name" in spec and not isinstance(spec["name"], (str, int)):
                    bad(_line(spec, "name"), f"{where}.name: must be text")
                if "organisation" in spec and not isinstance(spec["organisation"], str):
                    bad(_line(spec, "organisation"), f"{where}.organisation: must be text (the agency or department)")
                r = spec.get("roles")
                if not _names(r) or not r:
                    bad(
                        _line(spec, "roles") if "roles" in spec else line,
                        f"{where}.roles: must be a non-empty list of roles",
                    )
                elif known_roles is not None:
                    for j, role in enumerate(r):
                        if str(role) not in known_roles:
                            bad(
                                _line(r, index=j) or _line(spec, "roles"),
                                f"{where}.roles: unknown role {role!r} (known: {', '.join(sorted(known_roles))})",
                            )
    for section, keys in (("confidential", ("variables", "when", "keep")), ("first_receiver", ("variables",))):
        node = data.get(section)
        if node is None:
            continue
        if not isinstance(node, dict):
            bad(_line(data, section), f"{section}: must be a mapping with {', '.join(keys)}")
            continue
        for key, value in node.items():
            if key not in keys:
                bad(_line(node, key), f"{section}: unknown key {key!r} (known: {', '.join(keys)})")
            elif key == "when":
                if not isinstance(value, dict):
                    bad(_line(node, key), f"{section}.when: must map variable names to a value or a list of values")
            elif not _names(value):
                bad(_line(node, key), f"{section}.{key}: must be a list of variable names")
    return out


def missing_notice(path: str | Path | None = None) -> str | None:
    """The one-line notice when ./hall.yaml (no --config given) does not exist, else None."""
    p = Path(path) if path else Path("hall.yaml")
    return None if path or p.exists() else f"{p}: not found; defaults apply (no users: everybody may do everything)"


def check_config(path: str | Path | None = None, schema: Schema | None = None) -> tuple[list[str], str | None]:
    """`hall config check`: every problem as `FILE:LINE: where: what`, and a notice (missing ./hall.yaml);
    ConfigMissing when the file given (--config) does not exist. `schema`: as for `load_config`."""
    schema = schema or ENGINE
    p = Path(path) if path else Path("hall.yaml")
    if not p.exists():
        if path:
            raise ConfigMissing(str(p))
        return [], missing_notice(path)
    try:
        data = read_yaml(p)
    except ConfigInvalid as exc:
        return [str(exc)], None
    if data is None:
        return [], f"{p}: empty; defaults apply (no users: everybody may do everything)"
    if not isinstance(data, dict):
        return [str(ConfigInvalid(str(p), 1, "must be a mapping of sections"))], None
    found = [
        ConfigInvalid(str(p), _line(data, key), f"unknown section {key!r} (known: {', '.join(schema.names)})")
        for key in data
        if key not in schema.names
    ]
    found += check_people(data, str(p)) + check_sections(data, str(p), schema) + _unimportable(data, str(p))
    found.sort(key=lambda e: e.line or 0)
    return [str(e) for e in found], None


def _unimportable(data: Any, path: str) -> list[ConfigInvalid]:
    """Service handlers that are well formed but cannot be imported (only `config check` imports
    them; every other command imports a handler when a service task first calls it)."""
    from .services import ServiceFailed, check_path, import_handler

    services = data.get("services")
    out = []
    for name, target in services.items() if isinstance(services, dict) else ():
        if check_path(name, target) is None:
            try:
                import_handler(target)
            except ServiceFailed as exc:
                out.append(ConfigInvalid(path, _line(services, name), f"services.{name}: {exc}"))
    return out


# -- the other sections: each checked by the code that reads it, the problem placed on its key's line ----
def _line_at(data: Any, where: str) -> int | None:
    """The line of the deepest key of a dotted path (`reports.due_day`, `calendar.official.2027`)."""
    node, line = data, None
    for part in where.split("."):
        if not isinstance(node, dict):
            break
        key = next((k for k in node if str(k) == part), None)
        if key is None:
            break
        line, node = _line(node, key), node[key]
    return line


def _placed(path: str, data: Any, section: str, what: str) -> ConfigInvalid:
    """A problem whose text starts with its dotted key (`calendar.office_hours: …`), at that key's line."""
    where = what.split(":", 1)[0].split(" ", 1)[0]
    if not where.startswith(section):
        where = section
    return ConfigInvalid(path, _line_at(data, where) or _line(data, section), what)


def check_sections(data: Any, path: str, schema: Schema | None = None) -> list[ConfigInvalid]:
    """Every problem in database, forms and each section of `schema` that has checks (default: the
    engine's calendar, numbering, settings and services)."""
    if not isinstance(data, dict):
        return []
    out: list[ConfigInvalid] = []
    settings = plain(data)
    settings["_source"] = path
    for key, what in (
        ("database", "a database URL or SQLite file (postgresql+psycopg://user@host/db, hall.db)"),
        ("forms", "the folder of the form files (forms)"),
    ):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            out.append(ConfigInvalid(path, _line(data, key), f"{key}: must be {what}"))
    out += [_placed(path, data, s, what) for s, what in section_problems(settings, schema or ENGINE)]
    return out


def section_problems(settings: dict[str, Any], schema: Schema) -> list[tuple[str, str]]:
    """(section, problem) for each section of `schema` present in the plain `settings`, from the
    section's checks (the code that reads it)."""
    found: list[tuple[str, str]] = []
    for section in schema.sections:
        if not section.checks or section.name not in settings:
            continue
        value = settings[section.name]
        # one key at a time (and one entry of the mappings checked entry by entry), so that every
        # problem is found, not only a section's first
        parts = [value]
        if isinstance(value, dict) and value:
            split = section.split
            parts = [
                {k: {sk: sv}} for k, v in value.items() if k in split and isinstance(v, dict) for sk, sv in v.items()
            ]
            parts += [{k: v} for k, v in value.items() if k not in split or not isinstance(v, dict) or not v]
        for part in parts:
            for check in section.checks:
                try:
                    check(dict(settings, **{section.name: part}))
                except ConfigInvalid as exc:
                    found.append((section.name, exc.what))
                except (TypeError, ValueError) as exc:
                    found.append((section.name, str(exc)))
    return list(dict.fromkeys(found))


def _mapping(settings: dict[str, Any], section: str) -> dict[str, Any]:
    value = settings.get(section)
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"{section}: must be a mapping")
    return value or {}


def _items(value: Any, what: str) -> list[tuple[Any, Any]]:
    """The entries of a section that must be a mapping (none when it is empty)."""
    if value is not None and not isinstance(value, dict):
        raise ValueError(what)
    return list((value or {}).items())


def _check_numbering(numbering: Any) -> None:
    from datetime import datetime

    for kind, conf in _items(
        numbering, "numbering: must map a kind (filing, complaint) to {prefix: ..., pattern: ...}"
    ):
        where = f"numbering.{kind}"
        if not isinstance(conf, dict):
            raise ValueError(
                f'{where}: must be a mapping like {{prefix: TS, pattern: "{{prefix}}{{date:%Y%m%d}}-{{seq:04d}}"}}'
            )
        for key in conf:
            if key not in ("prefix", "pattern"):
                raise ValueError(f"{where}.{key}: unknown key (known: prefix, pattern)")
        if "prefix" in conf and not isinstance(conf["prefix"], (str, int)) or isinstance(conf.get("prefix"), bool):
            raise ValueError(f"{where}.prefix: must be text")
        pattern = conf.get("pattern")
        if pattern is None:
            continue
        if not isinstance(pattern, str):
            raise ValueError(f'{where}.pattern: must be text like "{{prefix}}{{date:%Y%m%d}}-{{seq:04d}}"')
        try:
            pattern.format(prefix="X", date=datetime(2026, 11, 24), seq=1)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
            raise ValueError(
                f"{where}.pattern: {pattern!r} is not a number pattern ({exc}); the fields are "
                "{prefix}, {date:%Y%m%d} and {seq:04d}"
            ) from None
        if "{seq" not in pattern:
            raise ValueError(f"{where}.pattern: {pattern!r} has no {{seq}}: two cases would get the same number")


def _check_settings(values: Any) -> None:
    """Settings are named values the processes read (`setting(name, default)`); what a name means is
    the application's (its own check, added to the `settings` section of its schema)."""
    _items(values, "settings: must map a setting name to its value")


def _check_services(values: Any) -> None:
    from .services import check_path

    for name, path in _items(values, "services: must map a service name to its handler `module:function`"):
        problem = check_path(name, path)
        if problem:
            raise ValueError(problem)


def _check_scripts(settings: dict[str, Any]) -> None:
    """scripts: {timeout: 2 seconds}: how long one script, condition or expression may run."""
    from .restricted import timeout_of

    timeout_of(settings)


def _check_display(settings: dict[str, Any]) -> None:
    """display: {locale: zh_CN}: the language people read (its catalogs are the CLI's, which adds
    the check that one exists)."""
    display = settings["display"]
    if not isinstance(display, dict):
        raise ValueError("display: must be a mapping like {locale: zh_CN}")
    for key, value in display.items():
        if key != "locale":
            raise ValueError(f"display: unknown key {key!r} (known: locale)")
        if not isinstance(value, str):
            raise ValueError(f"display.locale: must be a name like zh_CN or en, not {value!r}")


ENGINE = Schema(
    (
        Section("database"),
        Section("calendar", (lambda st: _calendar_config(_mapping(st, "calendar")),)),
        Section("numbering", (lambda st: _check_numbering(st["numbering"]),)),
        Section("settings", (lambda st: _check_settings(st["settings"]),)),
        Section("forms"),
        Section("roles"),
        Section("users"),
        Section("confidential"),
        Section("first_receiver"),
        Section("services", (lambda st: _check_services(st["services"]),)),
        Section("scripts", (_check_scripts,)),
        Section("display", (_check_display,)),
    )
)
SECTIONS = ENGINE.names  # the engine's own sections


def _calendar_config(values: dict[str, Any]) -> Any:
    from .calendar import CalendarConfig

    return CalendarConfig.from_dict(values)


class ConfigFile:
    """hall.yaml opened for editing (`hall user add`, `hall role add`): comments and layout survive."""

    HEADER = "# hall.yaml — the service hall's configuration (created by `hall`; see the repository's hall.yaml).\n"

    def __init__(self, path: str | Path | None = None) -> None:
        from ruamel.yaml import YAML
        from ruamel.yaml.comments import CommentedMap

        self.path = Path(path) if path else Path("hall.yaml")
        self.yaml = YAML(typ="rt")
        self.yaml.preserve_quotes = True
        self.yaml.width = 4096
        self.yaml.indent(mapping=2, sequence=4, offset=2)
        self.created = not self.path.exists()
        if self.created:
            self.data = CommentedMap()
        else:
            self.data = read_yaml(self.path, self.yaml)
            if self.data is None:
                self.data = CommentedMap()
            if not isinstance(self.data, dict):
                raise ConfigInvalid(str(self.path), 1, "must be a mapping of sections")

    def add_user(self, uid: str, name: str | None, roles: list[str]) -> None:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        if not roles:
            raise ConfigInvalid(str(self.path), None, f"user {uid!r} needs at least one --role")
        users = self.data.get("users")
        if users is None:
            users = self.data["users"] = CommentedSeq()
        for u in users:
            if isinstance(u, dict) and str(u.get("id")) == uid:
                raise ConfigInvalid(str(self.path), _line(u), f"user {uid!r} already exists")
        known = self.data.get("roles")
        if isinstance(known, dict):
            for r in roles:
                if r not in known:
                    raise ConfigInvalid(
                        str(self.path),
                        _line(self.data, "roles"),
                        f"unknown role {r!r} (known: {', '.join(map(str, known))}; add it with `hall role add`)",
                    )
        if users.fa.flow_style():  # `users: []` becomes a block list, one user a line
            users.fa.set_block_style()
        entry = CommentedMap([("id", uid), ("name", name or uid), ("roles", _flow(roles))])
        entry.fa.set_flow_style()
        users.append(entry)

    def add_role(self, name: str, serves: list[str], may: list[str]) -> None:
        from ruamel.yaml.comments import CommentedMap

        roles = self.data.get("roles")
        if roles is None:
            roles = self.data["roles"] = CommentedMap()
        if name in roles:
            raise ConfigInvalid(str(self.path), _line(roles, name), f"role {name!r} already exists")
        entry = CommentedMap([("serves", _flow(serves or [name]))])
        if may:
            entry["may"] = _flow(may)
        entry.fa.set_flow_style()
        roles[name] = entry

    def save(self) -> None:
        """Check the edited configuration, then write it (never a file `hall config check` would refuse)."""
        import io

        problems = check_people(self.data, str(self.path))
        if problems:
            raise problems[0]
        buf = io.StringIO()
        if self.created:
            buf.write(self.HEADER)
        self.yaml.dump(self.data, buf)
        text = buf.getvalue()
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.path)


def _flow(items: list[str]) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _code(character: Any) -> int:
    """A ReaderError's character as a code point (ruamel gives an int or a one-character text)."""
    return character if isinstance(character, int) else ord(str(character)[:1] or "\0")
