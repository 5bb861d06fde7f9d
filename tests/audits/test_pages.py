"""Bias audits in the web app and the API: upload, progress, report with plots,
publication on the public register, citation; other organisations see nothing."""

from __future__ import annotations

import io

import pytest

from ombud.register.domain.systems import PublicationState
from tests.audits.test_runs import write_data
from tests.factories import complete_details
from tests.web_helpers import csrf_from, login

ASSESSOR = "city-assessor@example.org"


@pytest.fixture
def published(container, world):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Selection model")
    )
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    return system


def test_upload_progress_report_and_public_summary(
    app_client, container, world, published, tmp_path
):
    data = write_data(tmp_path / "d.parquet").read_bytes()
    login(app_client, ASSESSOR)
    page = app_client.get(f"/systems/{published.id}/audits")
    assert "No audits yet" in page.text
    token = csrf_from(page.text)
    form = {"csrf_token": token, "source": "upload", "label": "label", "prediction": "pred",
            "groups": "group, sex", "references": "group=A", "min_group_size": "30",
            "purpose": "pre_deployment"}  # fmt: skip
    wrong = app_client.post(
        f"/systems/{published.id}/audits",
        data={**form, "prediction": "", "score": ""},
        files={"file": ("d.parquet", data, "application/octet-stream")},
    )
    assert wrong.status_code == 422
    assert "Give either --prediction COL or --score COL" in wrong.text
    assert 'value="group, sex"' in wrong.text  # what was typed stays
    sent = app_client.post(
        f"/systems/{published.id}/audits",
        data=form,
        files={"file": ("d.parquet", data, "application/octet-stream")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    url = sent.headers["location"]
    waiting = app_client.get(url)
    assert 'http-equiv="refresh"' in waiting.text
    assert "<progress" in waiting.text
    container.audit_runs.run_pending()
    report = app_client.get(url)
    assert 'http-equiv="refresh"' not in report.text
    assert "Flagged disparities" in report.text
    assert 'id="sha256"' in report.text
    for kind in ("disparities", "selection_rate", "fpr", "tpr"):
        svg = app_client.get(f"{url}/plots/{kind}.svg")
        assert svg.status_code == 200
        assert svg.headers["content-type"].startswith("image/svg+xml")
    assert app_client.get(f"{url}.json").json()["rows"] == 4000
    # an assessor may not publish; an approver may
    assert (
        app_client.post(f"{url}/publish", data={"csrf_token": token, "published": "1"}).status_code
        == 403
    )
    login(app_client, "city-approver@example.org")
    token = csrf_from(app_client.get(url).text)
    app_client.post(f"{url}/publish", data={"csrf_token": token, "published": "1"})
    public = app_client.get(f"/register/{published.id}")
    assert "Latest bias and discrimination audit" in public.text
    assert 'id="audit-flagged"' in public.text
    # another organisation sees nothing
    login(app_client, "agency-admin@example.org")
    assert app_client.get(url).status_code == 404
    assert app_client.get(f"{url}/plots/fpr.svg").status_code == 404
    assert app_client.get(f"/systems/{published.id}/audits").status_code == 404


def test_audit_api(api, as_user, container, world, published, tmp_path):
    data = write_data(tmp_path / "d.parquet").read_bytes()
    headers = as_user(ASSESSOR)
    created = api.post(
        f"/systems/{published.id}/audits/upload",
        data={"label": "label", "prediction": "pred", "groups": "group,sex"},
        files={"file": ("d.parquet", io.BytesIO(data), "application/octet-stream")},
        headers=headers,
    )
    assert created.status_code == 202, created.text
    run = created.json()
    assert run["state"] == "queued"
    assert "data_path" not in run["parameters"]
    container.audit_runs.run_pending()
    done = api.get(f"/audits/{run['id']}", headers=headers).json()
    assert done["state"] == "done"
    assert done["result"]["schema_version"].startswith("1.")
    assert done["data_rows"] == 4000
    listed = api.get(f"/systems/{published.id}/audits", headers=headers).json()
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    assert listed["items"][0]["result"] is None
    no_root = api.post(
        f"/systems/{published.id}/audits",
        json={"path": "d.parquet", "label": "label", "prediction": "pred", "groups": ["group"]},
        headers=headers,
    )
    assert no_root.status_code == 422
    assert "OMBUD_AUDIT_DATA_ROOT" in no_root.text
    other = as_user("agency-admin@example.org")
    assert api.get(f"/audits/{run['id']}", headers=other).status_code == 404
    refused = api.post(
        f"/systems/{published.id}/audits/upload",
        data={"label": "label", "prediction": "pred", "groups": "group"},
        files={"file": ("d.parquet", io.BytesIO(data), "application/octet-stream")},
        headers=other,
    )
    assert refused.status_code == 404


def test_monitoring_from_the_page_opens_a_finding_on_the_system(
    app_client, container, world, published, tmp_path
):
    from tests.audits.test_runs import write_timed

    data = write_timed(tmp_path / "t.parquet").read_bytes()
    login(app_client, ASSESSOR)
    token = csrf_from(app_client.get(f"/systems/{published.id}/audits").text)
    form = {"csrf_token": token, "source": "upload", "label": "label", "prediction": "pred",
            "groups": "group", "references": "group=A", "purpose": "monitoring",
            "time_column": "at", "window": "month",
            "alerts": "FPR ratio outside [0.8, 1.25]"}  # fmt: skip
    bad = app_client.post(
        f"/systems/{published.id}/audits",
        data={**form, "alerts": "FPR ratio outside [0.8 1.25]"},
        files={"file": ("t.parquet", data, "application/octet-stream")},
    )
    assert bad.status_code == 422
    assert "end with &#39;outside [LOW, HIGH]&#39;" in bad.text
    sent = app_client.post(
        f"/systems/{published.id}/audits",
        data=form,
        files={"file": ("t.parquet", data, "application/octet-stream")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    container.audit_runs.run_pending()
    report = app_client.get(sent.headers["location"]).text
    assert "group=B in 2026-03" in report
    assert '<span class="muted">reference</span>' in report  # not a ratio of 1 to itself
    system_page = app_client.get(f"/systems/{published.id}").text
    assert "Open findings" in system_page
    assert "FPR ratio outside [0.8, 1.25] | group=B" in system_page
    finding = container.audit_runs.findings(world[ASSESSOR], published.id)[0]
    done = app_client.post(
        f"/findings/{finding.id}/resolve",
        data={"csrf_token": csrf_from(system_page), "resolution": "Recalibrated."},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "Open findings" not in app_client.get(f"/systems/{published.id}").text
