"""One audit request end to end: the web form, the API (JSON and multipart) and the CLI
take the same fields (intersections, population, proxies, bootstrap replicates,
confidence, seed as well), check them with the same rules and messages naming the field,
and the stored run's result shows what was asked. Runs stored the old way read the same."""

from __future__ import annotations

import io
import json

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from ombud.audits.cli import audit_app
from ombud.audits.domain.metrics import wilson_interval
from ombud.audits.domain.monitoring import MONITORED, Comparison, parse_rule
from ombud.audits.domain.request import AuditRequest
from ombud.audits.domain.runs import Purpose, RunRequest
from ombud.audits.standalone import audit_service
from ombud.kernel.errors import Invalid
from tests.audits.test_runs import write_data, write_timed
from tests.conftest import make_settings
from tests.factories import complete_details
from tests.web_helpers import csrf_from, login

ASSESSOR = "city-assessor@example.org"
POPULATION = {"group": {"A": 0.5, "B": 0.3, "C": 0.2}}
# every field the web could not set before, as the JSON API takes them
NEW_FIELDS = {"intersections": [["sex", "group"]], "population": POPULATION, "proxies": 2,
              "bootstrap": 200, "confidence": 0.9, "seed": 7}  # fmt: skip
# and as the page form (and the multipart upload) takes them
NEW_FORM_FIELDS = {"intersections": "sex,group", "population": json.dumps(POPULATION),
                   "proxies": "2", "bootstrap": "200", "confidence": "0.9",
                   "seed": "7"}  # fmt: skip


def write_with_region(path):
    """write_data's decisions, with a column that gives the group away (a proxy)."""
    write_data(path)
    table = pq.read_table(path)
    region = pc.replace_substring(table["group"], "A", "north")
    pq.write_table(table.append_column("region", region), path)
    return path


@pytest.fixture
def settings(database_url, tmp_path):
    """Server paths on, under tmp_path/data."""
    return make_settings(database_url, tmp_path, audit_data_root=tmp_path / "data")


@pytest.fixture
def system(container, world, tmp_path):
    write_with_region(tmp_path / "data" / "d.parquet")
    return container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Selection model")
    )


def assert_applied(result: dict) -> None:
    """The stored result records each new field, and the audit applied it."""
    p = result["parameters"]
    assert p["intersections"] == [["sex", "group"]]
    assert ["group", "sex"] in [g["attributes"] for g in result["groupings"]]  # --group order
    assert p["population"] == POPULATION
    assert {r["value"]: r["expected"] for r in result["representation"]} == POPULATION["group"]
    assert p["proxies"] == 2
    assert {x["column"] for x in result["proxies"]} == {"region"}
    assert p["bootstrap"]["replicates"] == 200
    assert p["bootstrap"]["seed"] == 7
    assert p["confidence"] == 0.9
    group = next(g for g in result["groups"] if g["grouping"] == ["group"])
    at_90 = wilson_interval(group["count"], result["rows"], 0.9)
    assert group["intervals"]["share"] == pytest.approx(list(at_90))  # not the 95% default


def test_the_json_api_takes_every_field_of_the_cli(api, as_user, container, system):
    headers = as_user(ASSESSOR)
    body = {"path": "d.parquet", "label": "label", "prediction": "pred",
            "groups": ["group", "sex"], **NEW_FIELDS}  # fmt: skip
    created = api.post(f"/systems/{system.id}/audits", json=body, headers=headers)
    assert created.status_code == 202, created.text
    run = created.json()
    assert run["parameters"]["bootstrap"] == 200  # the request as stored
    container.audit_runs.run_pending()
    done = api.get(f"/audits/{run['id']}", headers=headers).json()
    assert done["state"] == "done", done["error"]
    assert_applied(done["result"])


def test_the_upload_api_takes_the_fields_of_the_form(api, as_user, container, system, tmp_path):
    data = (tmp_path / "data" / "d.parquet").read_bytes()
    fields = {"label": "label", "prediction": "pred", "groups": "group", **NEW_FORM_FIELDS}

    def upload(extra):
        return api.post(
            f"/systems/{system.id}/audits/upload",
            data={**fields, **extra},
            files={"file": ("d.parquet", io.BytesIO(data), "application/octet-stream")},
            headers=as_user(ASSESSOR),
        )

    refused = upload({})  # "sex" is not a --group: it cannot be intersected
    assert refused.status_code == 422
    assert "An intersection may only combine --group columns" in refused.text
    assert not (tmp_path / "audit-data").exists()  # refused before the upload was stored
    created = upload({"groups": "group, sex"})
    assert created.status_code == 202, created.text
    container.audit_runs.run_pending()
    done = api.get(f"/audits/{created.json()['id']}", headers=as_user(ASSESSOR)).json()
    assert_applied(done["result"])


def test_the_page_form_takes_every_field_of_the_cli(app_client, container, system):
    login(app_client, ASSESSOR)
    page = app_client.get(f"/systems/{system.id}/audits")
    for name in NEW_FORM_FIELDS:
        assert f'<label for="{name}">' in page.text  # labelled inputs, no script needed
        assert f'name="{name}"' in page.text
    form = {"csrf_token": csrf_from(page.text), "source": "path", "path": "d.parquet",
            "label": "label", "prediction": "pred", "groups": "group",
            "purpose": "pre_deployment", **NEW_FORM_FIELDS,
            "population": "group:\n  A: 0.5\n  B: 0.3\n  C: 0.2\n"}  # fmt: skip
    wrong = app_client.post(f"/systems/{system.id}/audits", data=form)
    assert wrong.status_code == 422
    assert 'id="intersections-error"' in wrong.text  # the message next to its field
    assert "An intersection may only combine --group columns" in wrong.text
    assert "sex,group</textarea>" in wrong.text  # what was typed stays
    sent = app_client.post(
        f"/systems/{system.id}/audits", data={**form, "groups": "group, sex"},
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303, sent.text
    container.audit_runs.run_pending()
    assert_applied(app_client.get(f"{sent.headers['location']}.json").json())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("bootstrap", "many", "Bootstrap replicates: a whole number, e.g. 1000."),
        ("bootstrap", "-1", "The number of bootstrap replicates cannot be negative."),
        ("bootstrap", "1000000", "At most 100,000 bootstrap replicates on the server."),
        ("confidence", "1.5", "The confidence level must lie between 0 and 1."),
        ("confidence", "high", "Confidence level: a number, e.g. 0.95."),
        ("seed", "-3", "The seed of the bootstrap must be 0 or more."),
        ("proxies", "-1", "--proxies must be 0 (off) or more."),
        ("population", "group: [unclosed", "Population shares:2: not valid YAML"),
        ("population", "group: {A: lots}", "The population share of group=A is not a number."),
        ("references", "group", "Reference group 'group': write it as COLUMN=VALUE"),
    ],
)
def test_each_field_is_checked_with_a_message_next_to_it(app_client, system, field, value, message):
    login(app_client, ASSESSOR)
    page = app_client.get(f"/systems/{system.id}/audits")
    form = {"csrf_token": csrf_from(page.text), "source": "path", "path": "d.parquet",
            "label": "label", "prediction": "pred", "groups": "group", field: value}  # fmt: skip
    refused = app_client.post(f"/systems/{system.id}/audits", data=form)
    assert refused.status_code == 422
    flat = " ".join(refused.text.replace("&#39;", "'").split())
    assert f'id="{field}-error">{message}' in flat


def test_the_json_api_names_the_field_at_fault(api, as_user, system):
    base = {"path": "d.parquet", "label": "label", "prediction": "pred", "groups": ["group"]}
    for field, value in (("confidence", 1.5), ("seed", -1), ("bootstrap", 10**6)):
        refused = api.post(
            f"/systems/{system.id}/audits", json={**base, field: value}, headers=as_user(ASSESSOR)
        )
        assert refused.status_code == 422, field
        problem = refused.json()["error"]
        assert [field] == [e["loc"][-1] for e in problem["fields"]], problem


def test_a_run_asked_for_the_old_way_is_stored_as_before():
    """Clients and stored runs rely on the parameters' shape (docs/audit-json-schema.md)."""
    old = {"label": "label", "groups": ["group"], "prediction": "pred", "score": None,
           "threshold": None, "intersect": False, "references": {"group": "A"},
           "filter": None, "min_group_size": 30, "rerun_of": None, "time_column": None,
           "window": None, "alerts": []}  # fmt: skip
    rr = RunRequest.from_json(old, Purpose.PRE_DEPLOYMENT)
    assert rr.as_json() == old  # the same keys, nothing added
    assert (rr.replicates, rr.confidence, rr.seed, rr.proxies) == (1000, 0.95, 0, 0)
    assert (rr.population, rr.intersections) == ({}, ())
    new = RunRequest.from_json({**old, "bootstrap": 50, "seed": 3}, Purpose.MONITORING)
    assert new.as_json() == {**old, "bootstrap": 50, "seed": 3}
    assert new.on(("x.parquet",)).data == ("x.parquet",)


def test_alert_rules_need_a_window_by_one_rule_everywhere(tmp_path):
    """The CLI, the web and the JSON document refuse rules without a window with the
    request's own message (AuditRequest.alert_problem)."""
    rules = ("fpr ratio below 0.8",)
    request = AuditRequest(("x",), "label", ("group",), prediction="pred", alerts=rules)
    message = request.problems()["alerts"]
    assert message.startswith("Alert rules need a time window")
    web = RunRequest(label="label", groups=("group",), prediction="pred", alerts=rules)
    assert web.problems()["alerts"] == message
    data = write_timed(tmp_path / "t.parquet")
    app = typer.Typer()
    app.add_typer(audit_app, name="audit")
    cli = CliRunner().invoke(
        app,
        ["audit", "run", str(data), "--label", "label", "--prediction", "pred", "-g", "group",
         "--alert", rules[0]],
    )  # fmt: skip
    assert cli.exit_code == 2
    assert " ".join(message.split()) in " ".join(cli.output.split())
    svc = audit_service()
    report = svc.run(AuditRequest((str(data),), "label", ("group",), prediction="pred"))
    with pytest.raises(Invalid) as err:
        svc.json(report, rules)
    assert err.value.message == message


@pytest.mark.parametrize("metric", MONITORED)
def test_a_rule_names_a_metric_by_any_of_its_names(metric):
    """One vocabulary: a rule may use the metric's field name, its name or its heading."""
    for name in (metric.value, metric.value.replace("_", " "), metric.label, metric.short):
        rule = parse_rule(f"{name.upper()} ratio below 0.8")
        assert (rule.metric, rule.kind) == (metric, Comparison.RATIO)
