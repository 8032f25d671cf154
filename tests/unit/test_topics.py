"""R-C2: the complaint topics (专题) are hall.yaml's `topics`, checked with line numbers, with a default
for an SME service hall; forms take a field's choices from such a list (`choices_from`)."""

from __future__ import annotations

from pathlib import Path

from hall.engine.forms import FormLibrary, load_form
from hall.servicehall.config import check_config, load_config
from hall.servicehall.topics import DEFAULT_TOPICS, topics

ROOT = Path(__file__).resolve().parents[2]


def shipped_topics_block(tmp_path: Path) -> Path:
    """hall.yaml's commented `topics` section, uncommented into a file of its own."""
    lines = (ROOT / "hall.yaml").read_text(encoding="utf-8").splitlines()
    start = lines.index("# topics:")
    block = [line[2:] for line in lines[start:] if line.startswith("# ") and line[2:3] in ("t", " ")]
    path = tmp_path / "hall.yaml"
    path.write_text("\n".join(block) + "\n", encoding="utf-8")
    return path


def test_r_c2_the_shipped_topics_are_the_default_and_the_forms_default(tmp_path: Path) -> None:
    assert topics(load_config(ROOT / "hall.yaml")) == DEFAULT_TOPICS
    assert topics(load_config(shipped_topics_block(tmp_path))) == DEFAULT_TOPICS
    assert topics({}) == DEFAULT_TOPICS
    field = load_form(ROOT / "forms" / "complaint_classify.yaml").field("专题")
    assert field.choices_from == "topics" and field.choices == tuple(DEFAULT_TOPICS)
    # the utility company's topics are gone, the SME hall's are there (seed 000's callback script)
    assert "管网建设" not in DEFAULT_TOPICS and {"服务态度", "服务效率", "服务收费", "合同履行"} <= set(DEFAULT_TOPICS)


def test_r_c2_config_check_names_the_line_of_a_bad_topic(tmp_path: Path) -> None:
    path = tmp_path / "hall.yaml"
    path.write_text("topics:\n  服务态度: 态度\n  收费、价格: 两个\n  其他: [1]\n", encoding="utf-8")
    problems, _ = check_config(path)
    assert problems == [
        f"{path}:3: topics.收费、价格: a topic may not contain 、 , ， / (one answer each)",
        f"{path}:4: topics.其他: what the topic covers is a line of text",
    ]
    path.write_text("users: []\ntopics: [服务态度, 其他]\n", encoding="utf-8")
    assert check_config(path)[0] == [
        f"{path}:2: topics: must be a mapping of topic to what it covers, e.g. `服务态度: 人员的态度、文明用语`"
    ]
    path.write_text("topics: {}\n", encoding="utf-8")
    assert check_config(path)[0] == [
        f"{path}:1: topics: lists no topic: leave the section out for the default, or name at least one"
    ]


def test_r_c2_the_classification_form_offers_the_configured_topics() -> None:
    configured = {"topics": {"窗口服务": "", "政策兑现": "补贴发放", "其他": ""}}
    field = FormLibrary(ROOT / "forms", lists=configured).get("complaint_classify").field("专题")
    assert field.choices == ("窗口服务", "政策兑现", "其他")
    assert field.coerce("政策兑现", tz=None) == "政策兑现"
    # without the section, the form file's own choices
    assert FormLibrary(ROOT / "forms", lists={}).get("complaint_classify").field("专题").choices == tuple(
        DEFAULT_TOPICS
    )


def test_choices_from_only_applies_to_choice_fields(tmp_path: Path) -> None:
    from hall.engine.errors import FormDefinitionInvalid

    path = tmp_path / "f.yaml"
    path.write_text("title: t\nfields:\n  - name: a\n    choices_from: topics\n", encoding="utf-8")
    try:
        load_form(path)
    except FormDefinitionInvalid as problem:
        assert problem.line == 4 and "choices_from only applies to choice" in str(problem)
    else:
        raise AssertionError("choices_from on a text field was accepted")
