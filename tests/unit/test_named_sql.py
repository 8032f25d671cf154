"""Named SQL (engine/store/sql.py): one file per dialect, every statement written out for both, and no
private name imported across the store's and the jobs' modules (issue 11). Fast: no database."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hall.engine.store import sql

ENGINE = Path(__file__).resolve().parents[2] / "engine"
# The grouped firing is PostgreSQL's alone (SQLite has one writer: one transaction per timer).
POSTGRESQL_ONLY = re.compile(r"^group_")


def test_both_dialects_name_the_same_statements() -> None:
    sqlite, postgresql = set(sql.texts("sqlite")), set(sql.texts("postgresql"))
    assert sqlite == {name for name in postgresql if not POSTGRESQL_ONLY.match(name)}
    assert not {name for name in sqlite if POSTGRESQL_ONLY.match(name)}
    assert len(sqlite) > 30  # the store's and the jobs table's


@pytest.mark.parametrize("dialect", sql.DIALECTS)
def test_each_dialect_uses_its_own_placeholders(dialect: str) -> None:
    """SQLite's statements name parameters :x, PostgreSQL's %(x)s; a statement copied into the wrong
    file fails here rather than at its first execution."""
    for name, text in sql.texts(dialect).items():
        colon = re.findall(r"(?<![:\w]):(\w+)", text)
        percent = re.findall(r"%\((\w+)\)s", text)
        assert not (percent if dialect == "sqlite" else colon), (name, text)


def test_twins_take_the_same_parameters() -> None:
    postgresql = sql.texts("postgresql")
    for name, text in sql.texts("sqlite").items():
        assert set(re.findall(r"(?<![:\w]):(\w+)", text)) == set(re.findall(r"%\((\w+)\)s", postgresql[name])), name


def test_a_file_is_parsed_into_its_named_blocks() -> None:
    text = "-- a comment\n-- name: one\nSELECT 1\n\n-- about two\n-- name: two\nSELECT a, b AS c\n FROM t;\n"
    assert sql.parse(text) == {"one": "SELECT 1", "two": "SELECT a, b AS c\n FROM t"}
    assert sql.columns("SELECT a, t.b, (SELECT x FROM y) AS c, count(*) FROM t") == ("a", "b", "c", "count(*)")
    with pytest.raises(ValueError, match="appears twice"):
        sql.parse("-- name: one\nSELECT 1\n-- name: one\nSELECT 2\n")


def test_postgresql_statements_are_bytes_for_the_driver() -> None:
    assert all(isinstance(s, bytes) for s in sql.statements("postgresql").values())
    assert all(isinstance(s, str) for s in sql.statements("sqlite").values())


def test_no_statement_names_the_jobs_table_outside_the_jobs_folder() -> None:
    """The jobs table has one owner: engine/jobs (its named SQL and its modules)."""
    store_sql = sql.texts("sqlite", ENGINE / "store" / "queries") | sql.texts(
        "postgresql", ENGINE / "store" / "queries"
    )
    assert [name for name, text in store_sql.items() if re.search(r"\bjobs\b", text)] == []
    for path in (ENGINE / "store").rglob("*.py"):
        if "migrations" in path.parts:
            continue  # the revisions create and change the table
        assert not re.search(r"\b(FROM|INTO|UPDATE) jobs\b|jobs\.(insert|update|delete)\(", path.read_text()), path


@pytest.mark.parametrize("folder", ["store", "jobs"])
def test_no_private_name_is_imported_across_modules(folder: str) -> None:
    for path in (ENGINE / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                private = [a.name for a in node.names if a.name.startswith("_") and a.name != "__future__"]
                assert not private, f"{path}: from {node.module} import {private}"


# The generic reads and purge (engine/store/reading.py), named in both dialects' files.
READING = {
    "events_of",
    "workload",
    "overdue_tasks",
    "variables_of",
    "started_between",
    "ended_between",
    "finished_before",
    "children_of",
    "purge_unlink",
    "purge_history",
    "purge_jobs",
    "purge_human_tasks",
    "purge_instance_tasks",
    "purge_instances",
    "count_instances",
    "count_instance_tasks",
    "count_human_tasks",
    "count_history",
    "count_jobs",
}


def test_the_generic_reads_are_named_in_both_dialects() -> None:
    """Every statement of the reads and the purge is in both files; the jobs table's in its folder."""
    for dialect in sql.DIALECTS:
        assert READING <= set(sql.texts(dialect)), dialect
        jobs = sql.texts(dialect, ENGINE / "jobs" / "queries")
        assert {"purge_jobs", "count_jobs"} <= set(jobs), dialect


def test_the_reading_module_writes_no_statement_text() -> None:
    """engine/store/reading.py runs named SQL and one Core query: no SQL keyword in its string literals
    (a statement written there, or a dialect's text derived from the other's, fails here)."""
    tree = ast.parse((ENGINE / "store" / "reading.py").read_text(encoding="utf-8"))
    texts = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.col_offset > 0
    ]
    docstrings = {
        n.body[0].value.value  # type: ignore[attr-defined]
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    found = [t for t in texts if t not in docstrings and re.search(r"\b(SELECT|DELETE|UPDATE|INSERT|WHERE)\b", t)]
    assert found == []
    assert "re.sub" not in (ENGINE / "store" / "reading.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("dialect", sql.DIALECTS)
def test_the_events_query_is_compiled_with_each_dialects_placeholders(dialect: str) -> None:
    """`events` (filters and columns chosen per call) is SQLAlchemy Core compiled by each dialect, so
    SQLite's text has :name parameters and PostgreSQL's %(name)s, the same names in every shape."""
    from hall.engine.store import reading
    from sqlalchemy.dialects.postgresql import psycopg

    compiler = psycopg.dialect() if dialect == "postgresql" else reading._SQLITE
    for named in (0, 1, 2):
        for unnamed in (False, True):
            for since in (False, True):
                for fields, detail in ((0, True), (0, False), (2, False)):
                    text = reading._events_sql(compiler, named, unnamed, since, fields, detail)
                    colon = set(re.findall(r"(?<![:\w]):(\w+)", text))
                    percent = set(re.findall(r"%\((\w+)\)s", text))
                    assert not (percent if dialect == "sqlite" else colon), text
                    expected = {"p", "k", "u"} | ({"s"} if since else set()) | {f"f{n}" for n in range(fields)}
                    expected |= {"element"} if named == 1 else {"elements"} if named else set()
                    assert (colon or percent) == expected, text
