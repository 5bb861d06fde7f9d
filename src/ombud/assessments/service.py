"""Risk and impact assessments: start, answer, submit, sign off (four eyes), comment,
record red-line decisions, and see what has gone stale.

coe-fc:16 (risk and impact management across the lifecycle), coe-fc:16.4 (bans
and moratoria), unga-78-265:op6.b/e, ipu-148 (legal review of weapons).

``AssessmentsService`` is put together from one part per job, each in a module of
this area: ``reading`` (templates, views, reports, what is due; the settings every
part uses), ``workflow`` (start, answer, submit, sign), ``evidence`` (files),
``comments`` and ``red_lines`` (decisions on red-line hits). Callers import from here.
"""

from __future__ import annotations

from ombud.assessments.comments import AssessmentComments
from ombud.assessments.evidence import AssessmentEvidence
from ombud.assessments.reading import RED_LINE_SCREENING, AssessmentView, DueItem
from ombud.assessments.red_lines import RedLineDecisions
from ombud.assessments.workflow import AssessmentWorkflow

# The service, the answers its methods give, and the red-line screening's URN (demo data).
__all__ = ["RED_LINE_SCREENING", "AssessmentView", "AssessmentsService", "DueItem"]


class AssessmentsService(
    AssessmentWorkflow, AssessmentEvidence, AssessmentComments, RedLineDecisions
):
    """Use cases of risk and impact assessments; each runs in one unit of work and
    leaves its ledger entry."""
