"""A self-contained HTML report of an audit: tables, and dot-and-whisker charts in inline SVG.

No script, no external stylesheet or font: the file can be attached to an
assessment, mailed or archived and still read the same in ten years.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from ombud.audits.charts import inline, rates_svg
from ombud.audits.domain.metrics import (
    CHART_METRICS,
    DISPARITY_METRICS,
    FOUR_FIFTHS,
    TABLE_METRICS,
    WINDOW,
    Criterion,
    display_value,
)
from ombud.audits.domain.monitoring import over_time, over_time_views
from ombud.audits.domain.report import AuditReport, GroupingResult, GroupResult

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;
 color:#1b1b1b}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}caption{text-align:left;font-weight:600}
.flag{color:#a00000;font-weight:600}.muted{color:#555}.ref{background:#eef4ff}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}
svg{max-width:100%;height:auto}
"""


def _values(g: GroupResult) -> str:
    return ", ".join(display_value(v) for v in g.values)


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _ci(interval: tuple[float, float] | None) -> str:
    return "" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


class HtmlAuditReport:
    """Renders an AuditReport as one HTML document; its charts are those of the web page
    (ombud.audits.charts), inlined."""

    def html(self, report: AuditReport, doc: Mapping[str, Any]) -> str:
        r = report.request
        tab = report.tabulation
        scored = r.score is not None
        decision = (
            f"score <code>{escape(r.score or '')}</code> &ge; {r.threshold:g}"
            if scored and r.threshold is not None
            else f"prediction <code>{escape(r.prediction or '')}</code>"
        )
        parts = [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>Bias audit</title>",
            f"<style>{STYLE}</style></head><body>",
            "<h1>Bias and discrimination audit</h1>",
            "<dl>",
            f"<dt>Data</dt><dd>{', '.join(escape(f.path) for f in tab.files)}</dd>",
            f"<dt>Rows</dt><dd>{tab.rows:,} audited of {tab.rows_scanned:,} read</dd>",
            f"<dt>Outcome</dt><dd>label <code>{escape(r.label)}</code>; {decision}</dd>",
            f"<dt>Filter</dt><dd>{escape(r.filter) if r.filter else 'none'}</dd>",
            f"<dt>Smallest reported group</dt><dd>{r.min_group_size} rows</dd>",
            f"<dt>Engine</dt><dd>{escape(tab.engine.name)} {escape(tab.engine.version)}</dd>",
        ]
        if r.window and r.time_column:
            parts.append(
                f"<dt>Over time</dt><dd>per {escape(r.window)} of "
                f"<code>{escape(r.time_column)}</code></dd>"
            )
        for f in tab.files:
            if f.sha256:
                parts.append(f"<dt>sha256</dt><dd><code>{f.sha256}</code></dd>")
        parts.append("</dl>")
        if report.warnings:
            parts.append("<h2>Warnings</h2><ul>")
            parts += [f"<li>{escape(w)}</li>" for w in report.warnings]
            parts.append("</ul>")
        parts.append(
            "<p class='muted'>Intervals are 95% Wilson intervals for rates and bootstrap "
            "percentile intervals for differences. Ratios outside "
            f"[{FOUR_FIFTHS[0]}, {FOUR_FIFTHS[1]}] are marked.</p>"
        )
        if "windows" in doc:
            parts.append(self._over_time(doc))
        for grouping in report.groupings:
            if WINDOW in grouping.attributes:  # shown over time, above
                continue
            title = " × ".join(grouping.attributes)
            groups = report.groups_of(grouping.attributes)
            parts.append(f"<h2>{escape(title)}</h2>")
            if grouping.reference is not None:
                ref = ", ".join(
                    f"{a}={v if v is not None else '(missing)'}"
                    for a, v in zip(grouping.attributes, grouping.reference, strict=True)
                )
                parts.append(
                    f"<p>Reference group: <strong>{escape(ref)}</strong> "
                    f"({grouping.reference_rule.value}).</p>"
                )
            parts.append(self._groups_table(title, groups, scored))
            parts.append(self._chart(doc, grouping.attributes, groups))
            parts.append(self._criteria(grouping))
            parts.append(self._disparities(report, grouping.attributes))
        if report.representation:
            parts.append("<h2>Representation</h2><table><caption>Against the population</caption>")
            parts.append(
                "<tr><th scope=col>attribute</th><th scope=col>value</th><th scope=col>rows</th>"
                "<th scope=col>observed</th><th scope=col>expected</th>"
                "<th scope=col>ratio</th></tr>"
            )
            for rep in report.representation:
                parts.append(
                    f"<tr><td>{escape(rep.attribute)}</td><td>{escape(rep.value)}</td>"
                    f"<td>{rep.count:,}</td><td>{_num(rep.observed)}</td>"
                    f"<td>{_num(rep.expected)}</td><td>{_num(rep.ratio, 2)}</td></tr>"
                )
            parts.append("</table>")
        if report.proxies:
            parts.append("<h2>Possible proxies</h2><table><caption>Cramér's V</caption>")
            parts.append(
                "<tr><th scope=col>column</th><th scope=col>attribute</th>"
                "<th scope=col>V</th><th scope=col>method</th></tr>"
            )
            for p in report.proxies:
                parts.append(
                    f"<tr><td>{escape(p.column)}</td><td>{escape(p.attribute)}</td>"
                    f"<td>{p.cramers_v:.3f}</td><td>{escape(p.method)}</td></tr>"
                )
            parts.append("</table>")
        parts.append("</body></html>\n")
        return "\n".join(parts)

    def _over_time(self, monitoring: Mapping[str, Any]) -> str:
        """Alerts, then per metric each group's ratio (or difference) to its reference
        group in every window: the metrics the rules watch, and the three main rates."""
        windows, alerts = monitoring["windows"], monitoring.get("alerts") or {}
        breaches = alerts.get("breaches", [])
        parts = [f"<h2>Over time, per {escape(windows['window'])}</h2>"]
        if breaches:
            parts.append(f"<p class=flag>{len(breaches)} alert(s):</p><ul>")
            parts += [
                f"<li class=flag>{escape(b['rule'])}: {escape(b['attribute'])}="
                f"{escape(str(b['value']))} in {escape(b['window'])} ({escape(b['metric'])} "
                f"{escape(b['kind'])} {b['measured']:.2f})</li>"
                for b in breaches
            ]
            parts.append("</ul>")
        elif alerts.get("rules"):
            rules = "; ".join(escape(t) for t in alerts["rules"])
            parts.append(f"<p>No alert rule breached ({rules}).</p>")
        labels = "".join(f"<th scope=col>{escape(w)}</th>" for w in windows["labels"])
        for metric, kind in over_time_views(alerts):
            parts.append(
                f"<table><caption>{escape(metric.label)} {escape(kind)} to the "
                f"reference group</caption><tr><th scope=col>group</th>{labels}</tr>"
            )
            for row in over_time(windows, metric, kind, breaches):
                cells = "".join(
                    f"<td{' class=flag' if c.breached else '' if c.number else ' class=muted'}>"
                    f"{escape(c.text)}</td>"
                    for c in row.cells
                )
                parts.append(
                    f"<tr><td>{escape(row.attribute)}={escape(row.value)}</td>{cells}</tr>"
                )
            parts.append("</table>")
        return "\n".join(parts)

    def _groups_table(self, title: str, groups: list[GroupResult], scored: bool) -> str:
        head = "".join(f"<th scope=col>{escape(m.label)}</th>" for m in TABLE_METRICS)
        extra = "<th scope=col>mean score</th><th scope=col>AUC</th>" if scored else ""
        rows = [
            f"<table><caption>Groups by {escape(title)}</caption>",
            f"<tr><th scope=col>group</th><th scope=col>rows</th><th scope=col>share</th>"
            f"{head}{extra}</tr>",
        ]
        for g in groups:
            cls = " class=ref" if g.reference else ""
            name = escape(_values(g)) + (" (reference)" if g.reference else "")
            if g.suppressed:
                rows.append(
                    f"<tr{cls}><td>{name}</td><td>{g.count:,}</td><td>{_num(g.share)}</td>"
                    f"<td colspan={len(TABLE_METRICS) + (2 if scored else 0)} class=muted>"
                    "suppressed: too few rows</td></tr>"
                )
                continue
            cells = "".join(
                f"<td title='{_ci(g.intervals[m])}'>{_num(g.metrics[m])}</td>"
                for m in TABLE_METRICS
            )
            if scored:
                cells += f"<td>{_num(g.mean_score)}</td><td>{_num(g.auc)}</td>"
            rows.append(
                f"<tr{cls}><td>{name}</td><td>{g.count:,}</td><td>{_num(g.share)}</td>{cells}</tr>"
            )
        rows.append("</table>")
        return "\n".join(rows)

    def _chart(
        self, doc: Mapping[str, Any], grouping: tuple[str, ...], groups: list[GroupResult]
    ) -> str:
        """The web page's chart of the charted rates per group, for this grouping."""
        if all(g.suppressed for g in groups):
            return ""
        label = f"{', '.join(m.label for m in CHART_METRICS)} per group, with 95% intervals"
        return inline(rates_svg(doc, CHART_METRICS, [grouping]), label)

    def _criteria(self, grouping: GroupingResult) -> str:
        rows = ["<table><caption>Criteria across all groups</caption>"]
        rows.append(
            "<tr><th scope=col>criterion</th><th scope=col>largest difference</th>"
            "<th scope=col>smallest ratio</th></tr>"
        )
        for c in Criterion:
            diff, ratio = grouping.criterion(c)
            flag = " class=flag" if ratio is not None and ratio < FOUR_FIFTHS[0] else ""
            rows.append(
                f"<tr><td>{c.value.replace('_', ' ')}</td><td>{_num(diff)}</td>"
                f"<td{flag}>{_num(ratio)}</td></tr>"
            )
        rows.append("</table>")
        return "\n".join(rows)

    def _disparities(self, report: AuditReport, grouping: tuple[str, ...]) -> str:
        found = report.disparities_of(grouping)
        if not found:
            return ""
        head = "".join(f"<th scope=col colspan=2>{escape(m.label)}</th>" for m in DISPARITY_METRICS)
        sub = "<th scope=col>ratio</th><th scope=col>difference [95% CI]</th>" * len(
            DISPARITY_METRICS
        )
        rows = [
            "<table><caption>Against the reference group</caption>",
            f"<tr><th scope=col rowspan=2>group</th>{head}</tr><tr>{sub}</tr>",
        ]
        by_group: dict[tuple[object, ...], list[str]] = {}
        for d in found:
            cells = by_group.setdefault(d.values, [])
            if d.suppressed:
                cells.append("<td colspan=2 class=muted>suppressed</td>")
                continue
            flag = " class=flag" if d.flagged else ""
            cells.append(
                f"<td{flag}>{_num(d.ratio, 2)}</td>"
                f"<td>{_num(d.difference)} {_ci(d.difference_interval)}</td>"
            )
        for values, cells in by_group.items():
            name = ", ".join(
                f"{a}={v if v is not None else '(missing)'}"
                for a, v in zip(grouping, values, strict=True)
            )
            rows.append(f"<tr><td>{escape(name)}</td>{''.join(cells)}</tr>")
        rows.append("</table>")
        return "\n".join(rows)
