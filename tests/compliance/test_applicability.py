"""Applicability rules and requirement evaluation, on the shipped rules and hand-made ones."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from ombud.accounts.domain import Organisation
from ombud.compliance.applicability import (
    AllOf,
    ApplicabilityRule,
    FieldTest,
    Not,
    Op,
    Outcome,
    decide,
    facts_of,
)
from ombud.compliance.domain import Evidence, EvidenceKind, Requirement, Status, evaluate
from ombud.compliance.rules import load_requirements, load_rules, rules_dir
from ombud.instruments.catalogue import load_catalogue
from ombud.kernel.access import OrganisationKind
from ombud.kernel.yaml_schema import SchemaError
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import (
    AISystem,
    PublicationState,
    RiskLevel,
    ScopeExemption,
    Sector,
)
from tests.factories import complete_details

NOW = datetime(2026, 1, 1)


def system(stage=LifecycleStage.USE, **changes) -> AISystem:
    return AISystem(
        1,
        1,
        complete_details(**changes),
        stage,
        PublicationState.DRAFT,
        RiskLevel.UNASSESSED,
        1,
        NOW,
        NOW,
    )


def org(kind=OrganisationKind.PUBLIC_AUTHORITY) -> Organisation:
    return Organisation(1, "Org", "org", kind, "SE", NOW)


@pytest.fixture(scope="module")
def shipped():
    catalogue = load_catalogue()
    return catalogue, load_rules(catalogue), load_requirements(catalogue)


def outcomes(shipped, s, o):
    catalogue, rules, _ = shipped
    ids = [i.id for i in catalogue.instruments]
    return decide(ids, rules, facts_of(s, o))


def test_public_authority_is_under_the_convention(shipped):
    result = outcomes(shipped, system(), org())
    assert result["coe-fc"].outcome is Outcome.APPLIES
    assert "3.1.a" in result["coe-fc"].explanation
    assert result["unga-78-265"].applies
    assert not result["ipu-148"].applies


def test_private_actor_is_under_the_convention_as_the_party_chooses(shipped):
    result = outcomes(shipped, system(), org(OrganisationKind.PRIVATE_ACTOR))
    assert result["coe-fc"].outcome is Outcome.APPLIES_AS_PARTY_CHOOSES
    assert "private actor" in result["coe-fc"].explanation


def test_an_autonomous_weapon_goes_to_ipu_148_and_out_of_the_convention(shipped):
    weapon = system(
        LifecycleStage.TESTING,
        sector=Sector.DEFENCE,
        military_use=True,
        autonomy_in_critical_functions=True,
        scope_exemption=ScopeExemption.NATIONAL_DEFENCE,
        scope_justification="Defence procurement.",
    )
    result = outcomes(shipped, weapon, org())
    assert result["coe-fc"].outcome is Outcome.OUT_OF_SCOPE
    assert "Article 3.4: matters relating to national defence" in result["coe-fc"].explanation
    assert result["ipu-148"].applies
    assert "autonomy in critical functions" in result["ipu-148"].explanation
    assert result["unga-78-265"].outcome is Outcome.OUT_OF_SCOPE  # non-military domain only


def test_research_exemption_holds_only_before_testing(shipped):
    claimed = {
        "scope_exemption": ScopeExemption.RESEARCH_AND_DEVELOPMENT,
        "scope_justification": "Prototype.",
    }
    early = outcomes(shipped, system(LifecycleStage.DEVELOPMENT, **claimed), org())
    assert early["coe-fc"].outcome is Outcome.OUT_OF_SCOPE
    testing = outcomes(shipped, system(LifecycleStage.TESTING, **claimed), org())
    assert testing["coe-fc"].outcome is Outcome.APPLIES


def test_out_of_scope_beats_applies():
    rules = [
        ApplicabilityRule(
            "a", "x", FieldTest("military_use", Op.EQUALS, True), Outcome.APPLIES, "x:1", "applies"
        ),
        ApplicabilityRule(
            "b",
            "x",
            Not(FieldTest("purpose", Op.FILLED, False)),
            Outcome.OUT_OF_SCOPE,
            "x:2",
            "excluded",
        ),
    ]
    facts = {"military_use": True, "purpose": "p"}
    result = decide(["x"], rules, facts)["x"]
    assert result.outcome is Outcome.OUT_OF_SCOPE
    assert result.explanation == "excluded"
    assert decide(["x"], rules, {"military_use": False, "purpose": ""})["x"].outcome is None


def test_requirement_status_from_evidence():
    req = Requirement(
        "r",
        "R",
        "Do it.",
        ("x:1",),
        (
            Evidence(EvidenceKind.REGISTER_FIELD, ("contest_information",)),
            Evidence(EvidenceKind.PUBLISHED),
        ),
        applies_when=AllOf((FieldTest("decision_role", Op.IN, ("fully_automated",)),)),
        applies_when_text="decisions are fully automated",
    )
    applies = decide(
        ["x"], [ApplicabilityRule("a", "x", AllOf(()), Outcome.APPLIES, "x:1", "yes")], {}
    )
    facts = {
        "decision_role": "fully_automated",
        "contest_information": "Write to us.",
        "publication_state": "published",
    }
    assert evaluate(req, facts, applies).status is Status.MET
    partly = evaluate(req, {**facts, "publication_state": "draft"}, applies)
    assert partly.status is Status.PARTLY
    assert "Not on the public register" in partly.reason
    none = evaluate(
        req, {**facts, "publication_state": "draft", "contest_information": " "}, applies
    )
    assert none.status is Status.NOT_MET
    na = evaluate(req, {**facts, "decision_role": "informational"}, applies)
    assert na.status is Status.NOT_APPLICABLE
    assert "decisions are fully automated" in na.reason


def test_contest_information_requirement_fails_without_it(shipped):
    catalogue, rules, requirements = shipped
    req = next(r for r in requirements if r.id == "contest-information")
    assert "coe-fc:14.2.b" in req.provisions
    facts = facts_of(system(contest_information=""), org())
    result = evaluate(req, facts, decide([i.id for i in catalogue.instruments], rules, facts))
    assert result.status is Status.NOT_MET
    assert "How to contest a decision" in result.reason


def test_every_requirement_cites_known_provisions_and_has_evidence(shipped):
    catalogue, _, requirements = shipped
    assert len(requirements) >= 25
    for r in requirements:
        assert r.evidence
        for pid in r.provisions:
            assert catalogue.provision(pid) is not None, (r.id, pid)


def _broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    target = tmp_path / name
    text = (rules_dir() / name).read_text("utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), "utf-8")
    return target


def test_a_rule_with_an_unknown_field_is_refused_with_file_and_line(tmp_path, shipped):
    catalogue = shipped[0]
    path = _broken_copy(
        tmp_path, "applicability.yaml", "field: organisation_kind", "field: organisation_size"
    )
    line = next(
        i + 1 for i, text in enumerate(path.read_text().splitlines()) if "organisation_size" in text
    )
    with pytest.raises(SchemaError) as exc:
        load_rules(catalogue, path)
    assert exc.value.message.startswith(f"applicability.yaml:{line}: rules[0].when")
    assert "unknown field 'organisation_size'" in exc.value.message


def test_a_rule_citing_an_unknown_provision_is_refused(tmp_path, shipped):
    path = _broken_copy(
        tmp_path, "applicability.yaml", "provision: coe-fc:3.4", "provision: coe-fc:3.9"
    )
    with pytest.raises(SchemaError) as exc:
        load_rules(shipped[0], path)
    assert "coe-fc:3.9" in exc.value.message


def test_a_requirement_with_a_bad_evidence_kind_is_refused(tmp_path, shipped):
    path = _broken_copy(
        tmp_path, "requirements.yaml", "kind: register_field", "kind: good_intentions"
    )
    with pytest.raises(SchemaError) as exc:
        load_requirements(shipped[0], path)
    assert exc.value.message.startswith("requirements.yaml:")
    assert ".kind" in exc.value.message


def test_matrix_memo_gives_the_same_results_as_evaluating_each_system(shipped):
    from ombud.compliance.domain import MatrixPlan

    catalogue, rules, requirements = shipped
    plan = MatrixPlan([r.when for r in rules], requirements)
    ids = [i.id for i in catalogue.instruments]

    def statuses(s):
        facts = facts_of(s, org())
        applicability = decide(ids, rules, facts)
        return [evaluate(r, facts, applicability).status for r in requirements]

    a = system(purpose="Ranks claims.")
    b = system(purpose="Something else entirely.", name="Other name")
    c = system(contest_information="")
    assert plan.signature(facts_of(a, org())) == plan.signature(facts_of(b, org()))
    assert statuses(a) == statuses(b)
    assert plan.signature(facts_of(a, org())) != plan.signature(facts_of(c, org()))
    assert statuses(a) != statuses(c)
    kinds = [plan.signature(facts_of(a, org(k))) for k in OrganisationKind]
    assert len(set(kinds)) == len(kinds)
