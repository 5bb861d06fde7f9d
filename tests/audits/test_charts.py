"""One chart renderer: the web page's plots and the HTML report's figures are the same
drawings of the same document, reproducible, and name no outside address."""

from __future__ import annotations

import re

import pytest

from ombud.audits.charts import AuditPlots, disparities_svg, inline, rates_svg
from ombud.audits.domain.metrics import CHART_METRICS, DISPARITY_METRICS
from ombud.audits.domain.request import AuditRequest
from ombud.audits.standalone import audit_service
from tests.audits.test_runs import write_data


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    data = write_data(tmp_path_factory.mktemp("charts") / "d.parquet")
    svc = audit_service()
    report = svc.run(
        AuditRequest((str(data),), "label", ("group", "sex"), prediction="pred", replicates=100)
    )
    return svc, report, svc.json(report)


def test_the_report_inlines_the_web_pages_drawing_of_each_grouping(audited):
    svc, report, doc = audited
    page = svc.html(report, doc)
    for grouping in (["group"], ["sex"]):
        drawing = inline(rates_svg(doc, CHART_METRICS, [grouping]), "x")
        body = drawing[drawing.index("<title>") :]  # after the label given here
        assert body in page
    assert page.count("<svg ") == 2  # one per grouping, nothing hand-drawn besides
    assert "http" not in page  # self-contained: no namespace or metadata addresses


def test_the_web_plots_are_the_same_renderer_and_reproducible(audited):
    _svc, _report, doc = audited
    plots = AuditPlots()
    for metric in DISPARITY_METRICS:
        svg = plots.rates(doc, metric)
        assert svg == rates_svg(doc, (metric,))  # the same bytes every time
        assert svg.lstrip().startswith("<?xml")
        assert f"<title>{metric.label} per group, with 95% intervals</title>" in svg
    assert plots.disparities(doc) == disparities_svg(doc)


def test_an_inlined_chart_is_labelled_and_its_text_is_text(audited):
    _svc, _report, doc = audited
    element = inline(disparities_svg(doc), "Ratios to the reference group")
    assert element.startswith("<svg ")
    assert 'role="img" aria-label="Ratios to the reference group"' in element
    assert "xmlns" not in element.split(">", 1)[0]
    labels = re.findall(r"<text[^>]*>([^<]+)</text>", element)
    assert any("B · selection rate" in t for t in labels)  # readable, searchable
