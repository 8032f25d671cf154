"""A form's errors as `hall validate` reports them (the command-line half of tests/unit/test_forms.py)."""

from __future__ import annotations

from conftest import FIXTURES


def test_validate_reports_an_unknown_filter_with_file_line_and_task(tmp_path):
    """`hall validate`: FILE:LINE: task: form FILE:LINE: what is wrong, exit status 1."""
    from click.testing import CliRunner
    from hall.cli import main

    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "register.yaml").write_text(
        "title: R\ntemplate: |\n  金额：{{ data.amount }}\n  {% if data.amount %}{{ data.amount | yuan }}{% endif %}\n"
        "fields:\n  - name: amount\n    type: int\n",
        encoding="utf-8",
    )
    (forms / "approve.yaml").write_text(
        (FIXTURES / "forms" / "approve.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    bpmn = FIXTURES / "review.bpmn"
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "x.db"), "--forms", str(forms), "validate", str(bpmn)])
    assert result.exit_code == 1, result.output
    [line] = [x for x in result.output.splitlines() if "yuan" in x]
    assert (
        line.startswith(f"{bpmn}:") and f"form {forms / 'register.yaml'}:4: template uses unknown filter 'yuan'" in line
    )
