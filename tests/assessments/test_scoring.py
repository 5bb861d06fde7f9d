"""Scoring is pure domain code: hand-computed cases and properties (hypothesis)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ombud.assessments.domain import (
    LevelThreshold,
    facts_for,
    level_for,
    problems,
    red_line_hits,
    score,
    visible_questions,
)
from ombud.assessments.loader import load_template
from ombud.kernel.yaml_schema import SchemaError

TEMPLATE_FILE = Path(__file__).parents[1] / "data" / "templates" / "aia-test-1.0.yaml"
T = load_template(TEMPLATE_FILE)
RISK_MAX = 4 + 6 + 8 + 4  # 22
MITIGATION_MAX = 10


@pytest.mark.parametrize(
    ("answers", "raw", "discounted", "final", "level"),
    [
        ({}, 0, False, 0, "level_1"),
        ({"decision": "partly", "scale": 3}, 5, False, 5, "level_1"),  # 5/22 = 22.7%
        ({"decision": "partly", "scale": 4}, 6, False, 6, "level_2"),  # 27.3%
        ({"decision": "yes", "reversibility": "hardly", "scale": 4}, 11, False, 11, "level_3"),
        # mitigation 7/10 (review + appeal) is under 80%: no discount
        (
            {
                "decision": "yes",
                "reversibility": "hardly",
                "scale": 4,
                "review": "yes",
                "appeal": "yes",
                "audit": "no",
            },
            11,
            False,
            11,
            "level_3",
        ),
        (
            {
                "decision": "yes",
                "reversibility": "hardly",
                "scale": 4,
                "review": "yes",
                "audit": "yes",
            },
            11,
            False,
            11,
            "level_3",
        ),
        (
            {
                "decision": "yes",
                "reversibility": "never",
                "groups": ["children", "disabled"],
                "scale": 4,
            },
            20,
            False,
            20,
            "level_4",
        ),
        (
            {
                "decision": "yes",
                "reversibility": "never",
                "groups": ["children", "disabled"],
                "scale": 4,
                "review": "yes",
                "audit": "yes",
                "appeal": "yes",
            },
            20,
            True,
            17,
            "level_4",
        ),
        (
            {
                "decision": "yes",
                "reversibility": "never",
                "groups": ["children"],
                "scale": 4,
                "review": "yes",
                "audit": "yes",
                "appeal": "yes",
            },
            17,
            True,
            14.45,
            "level_3",
        ),
    ],
)
def test_hand_computed_cases(answers, raw, discounted, final, level):
    s = score(T, answers, {})
    assert s.maximum == RISK_MAX
    assert s.mitigation_maximum == MITIGATION_MAX
    assert s.raw == pytest.approx(raw)
    assert s.discounted is discounted
    assert s.final == pytest.approx(final)
    assert s.level == level


def _with_mitigation_weights(**weights: float):
    """The test template with other weights for the 'yes' answers of mitigation questions."""
    from dataclasses import replace

    sections = []
    for s in T.sections:
        questions = tuple(
            replace(
                q,
                options=tuple(
                    replace(o, weight=weights[q.id] if o.value == "yes" else 0.0) for o in q.options
                ),
            )
            if q.id in weights
            else q
            for q in s.questions
        )
        sections.append(replace(s, questions=questions))
    return replace(T, sections=tuple(sections))


def test_the_discount_applies_exactly_at_its_threshold():
    t = _with_mitigation_weights(review=4, audit=4, appeal=2)  # maximum 10, threshold 8
    base = {"decision": "yes", "reversibility": "never", "scale": 4}  # raw 14
    exactly = score(t, {**base, "review": "yes", "audit": "yes"}, {})
    assert exactly.mitigation == 8
    assert exactly.discounted
    assert exactly.final == pytest.approx(14 * 0.85)
    below = score(t, {**base, "review": "yes", "appeal": "yes"}, {})
    assert below.mitigation == 6
    assert not below.discounted
    assert below.final == 14


CHOICES = {
    "decision": ["no", "partly", "yes"],
    "reversibility": ["easily", "hardly", "never"],
}
answer_sets = st.fixed_dictionaries(
    {},
    optional={
        "decision": st.sampled_from(CHOICES["decision"]),
        "reversibility": st.sampled_from(CHOICES["reversibility"]),
        "groups": st.lists(st.sampled_from(["children", "disabled", "migrants"]), unique=True),
        "scale": st.integers(1, 4),
        "review": st.sampled_from(["no", "yes"]),
        "audit": st.sampled_from(["no", "yes"]),
        "appeal": st.sampled_from(["no", "yes"]),
    },
)
LEVELS = ["level_1", "level_2", "level_3", "level_4"]


@given(answer_sets, st.sampled_from(["decision", "reversibility", "scale", "groups"]))
def test_levels_are_monotone_in_risk_answers(answers, key):
    """Raising one risk answer never lowers the level (mitigation held constant)."""
    before = score(T, answers, {})
    worse = dict(answers)
    if key == "scale":
        worse["scale"] = 4
    elif key == "groups":
        worse["groups"] = ["children", "disabled", "migrants"]
    else:
        worse[key] = CHOICES[key][-1]
    after = score(T, worse, {})
    assert after.raw >= before.raw
    if after.discounted == before.discounted:
        assert LEVELS.index(after.level) >= LEVELS.index(before.level)


@given(answer_sets)
def test_more_mitigation_never_raises_the_level(answers):
    before = score(T, answers, {})
    after = score(T, {**answers, "review": "yes", "audit": "yes", "appeal": "yes"}, {})
    assert after.final <= before.final + 1e-9
    assert LEVELS.index(after.level) <= LEVELS.index(before.level)


@given(st.floats(0, 1), st.floats(0, 1))
def test_level_for_is_monotone(a, b):
    levels = [
        LevelThreshold(0, "l1"),
        LevelThreshold(0.25, "l2"),
        LevelThreshold(0.5, "l3"),
        LevelThreshold(0.75, "l4"),
    ]
    lo, hi = sorted((a, b))
    assert int(level_for(lo, levels)[1]) <= int(level_for(hi, levels)[1])


def test_conditions_show_and_require_what_they_should():
    hidden = {q.id for q in visible_questions(T, facts_for({"decision": "no"}, {}))}
    assert "automation_detail" not in hidden
    shown = {q.id for q in visible_questions(T, facts_for({"decision": "yes"}, {}))}
    assert "automation_detail" in shown
    assert "automation_detail" in problems(T, {"decision": "yes"}, {}, complete=True)
    assert "automation_detail" not in problems(T, {"decision": "no"}, {}, complete=True)
    assert "decision" in problems(T, {}, {}, complete=True)
    # an answer to a hidden question does not score
    assert score(T, {"decision": "no", "automation_detail": "x"}, {}).raw == 0


@given(st.sampled_from(["no", "partly", "yes"]))
def test_hidden_questions_are_never_required(decision):
    required = problems(T, {"decision": decision}, {}, complete=True)
    assert ("automation_detail" in required) is (decision == "yes")


def test_answers_are_checked_by_kind():
    found = problems(
        T, {"decision": "maybe", "groups": ["aliens"], "scale": 9, "nosuch": 1}, {}, complete=False
    )
    assert set(found) == {"decision", "groups", "scale", "nosuch"}
    assert "At most 4" in found["scale"]


def test_red_lines():
    hits = red_line_hits(T, {"decision": "yes", "reversibility": "never"}, {})
    assert [h.rule.id for h in hits] == ["irreversible_automated"]
    assert red_line_hits(T, {"decision": "yes", "reversibility": "hardly"}, {}) == []


def test_a_broken_template_is_refused_with_file_line_and_path(tmp_path):
    text = TEMPLATE_FILE.read_text()
    bad = tmp_path / "aia-test-1.0.yaml"
    bad.write_text(text.replace("kind: multi", "kind: multiple", 1))
    line = next(i + 1 for i, t in enumerate(bad.read_text().splitlines()) if "multiple" in t)
    with pytest.raises(SchemaError) as exc:
        load_template(bad)
    assert exc.value.message.startswith(f"aia-test-1.0.yaml:{line}: sections[0].questions[2].kind")
    bad.write_text(text.replace("answers.decision, equals", "answers.decisoin, equals", 1))
    with pytest.raises(SchemaError) as exc:
        load_template(bad)
    assert "answers.decisoin: no such question" in exc.value.message
    wrong_name = tmp_path / "aia-test-2.0.yaml"
    wrong_name.write_text(text)
    with pytest.raises(SchemaError) as exc:
        load_template(wrong_name)
    assert "aia-test-1.0.yaml" in exc.value.message


def test_released_templates_are_never_changed_in_place():
    """A template in use is never edited: a change is a new version in a new file, and
    its hash is added to templates.lock (old assessments keep their version)."""
    import hashlib

    from ombud.assessments.loader import templates_dir

    folder = templates_dir()
    lock = dict(
        reversed(line.split()) for line in (folder / "templates.lock").read_text().splitlines()
    )
    for path in sorted(folder.glob("*.yaml")):
        assert path.name in lock, f"{path.name} is not in templates.lock"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == lock[path.name], (
            f"{path.name} changed after release: publish a new version file instead"
        )
