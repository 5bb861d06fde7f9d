"""Loads assessment templates (resources/templates/*.yaml) with their schema.

One file per template version: ``hudera-1.0.yaml`` holds
``urn:ombud:template:hudera`` version ``1.0``. A template in use is never
changed in place: a new version is a new file, and old assessments keep theirs.
A broken template is refused with file, line and path.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ombud.assessments.domain import (
    Column,
    LevelThreshold,
    Option,
    Question,
    QuestionKind,
    RedLineRule,
    ScoreRole,
    Scoring,
    ScoringMethod,
    Section,
    Template,
)
from ombud.compliance.applicability import Always
from ombud.compliance.rules import ConditionModel
from ombud.instruments.domain import Catalogue
from ombud.kernel.errors import FieldProblem
from ombud.kernel.yaml_schema import SchemaError, validate
from ombud.register.domain.systems import DETAIL_FIELDS

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
URN = Annotated[str, StringConstraints(pattern=r"^urn:ombud:template:[a-z0-9-]+$")]
SYSTEM_FACTS = frozenset(DETAIL_FIELDS) | {"lifecycle_stage", "organisation_kind", "risk_level"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class OptionModel(_Strict):
    value: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    label: Annotated[str, StringConstraints(min_length=1)]
    weight: float = 0.0


class ColumnModel(_Strict):
    id: Slug
    label: str
    kind: QuestionKind
    options: list[OptionModel] = []
    min: float | None = None
    max: float | None = None


class QuestionModel(_Strict):
    id: Slug
    text: Annotated[str, StringConstraints(min_length=1)]
    kind: QuestionKind
    help: str = ""
    required: bool = False
    options: list[OptionModel] = []
    min: float | None = None
    max: float | None = None
    columns: list[ColumnModel] = []
    score: ScoreRole = ScoreRole.NONE
    weight: float = 1.0
    show_when: ConditionModel | None = None
    require_when: ConditionModel | None = None
    provisions: list[str] = []

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if self.kind in (QuestionKind.CHOICE, QuestionKind.MULTI) and not self.options:
            raise ValueError(f"a {self.kind.value} question needs options")
        if self.kind is QuestionKind.SCALE and (self.min is None or self.max is None):
            raise ValueError("a scale question needs min and max")
        if self.kind is QuestionKind.TABLE and not self.columns:
            raise ValueError("a table question needs columns")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is larger than max")
        values = [o.value for o in self.options]
        if len(set(values)) != len(values):
            raise ValueError("option values repeat")
        return self


class SectionModel(_Strict):
    id: Slug
    title: str
    help: str = ""
    show_when: ConditionModel | None = None
    questions: list[QuestionModel] = Field(min_length=1)


class LevelModel(_Strict):
    at: float = Field(ge=0, le=1)
    level: str


class ScoringModel(_Strict):
    method: ScoringMethod
    levels: list[LevelModel] = []
    rule_text: str = ""
    discount_threshold: float | None = Field(None, ge=0, le=1)
    discount: float = Field(0.0, ge=0, lt=1)
    table: str = ""
    factors: list[str] = []
    probability: str = ""

    @model_validator(mode="after")
    def _rule(self) -> Self:
        if self.method is not ScoringMethod.NONE:
            if not self.levels:
                raise ValueError("a scoring method needs levels")
            if not self.rule_text:
                raise ValueError("write the scoring rule in rule_text: it is shown to the user")
            ats = [level.at for level in self.levels]
            if ats != sorted(ats) or ats[0] != 0:
                raise ValueError("levels must ascend and start at 0")
        return self


class RedLineModel(_Strict):
    id: Slug
    when: ConditionModel
    provision: str
    message: str
    verdict: str = "incompatible with human rights: do not develop or deploy"


class TemplateModel(_Strict):
    urn: URN
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+$")]
    title: str
    description: str = ""
    provisions: list[str] = []
    requirements: list[str] = []
    signoff_roles: list[str] = ["approver"]
    requires_red_line_screening: bool = True
    sections: list[SectionModel] = Field(min_length=1)
    scoring: ScoringModel
    red_lines: list[RedLineModel] = []

    @model_validator(mode="after")
    def _references(self) -> Self:
        questions = {q.id: q for s in self.sections for q in s.questions}
        count = sum(len(s.questions) for s in self.sections)
        if len(questions) != count:
            raise ValueError("question ids repeat")
        conditions = [s.show_when for s in self.sections]
        for q in questions.values():
            conditions += [q.show_when, q.require_when]
        conditions += [r.when for r in self.red_lines]
        for c in conditions:
            for f in c.fields() if c else ():
                scope, _, name = f.partition(".")
                if scope == "answers" and name not in questions:
                    raise ValueError(f"a condition reads answers.{name}: no such question")
                if scope == "system" and name not in SYSTEM_FACTS:
                    raise ValueError(f"a condition reads system.{name}: no such field")
                if scope not in ("answers", "system"):
                    raise ValueError(f"condition fields are answers.<id> or system.<field>: {f}")
        s = self.scoring
        if s.method is ScoringMethod.RIGHTS_MATRIX:
            table = questions.get(s.table)
            if table is None or table.kind is not QuestionKind.TABLE:
                raise ValueError(f"scoring.table {s.table!r} is not a table question")
            cols = {c.id: c for c in table.columns}
            for f in [*s.factors, s.probability]:
                if f not in cols or cols[f].kind is not QuestionKind.SCALE:
                    raise ValueError(f"scoring factor {f!r} is not a scale column of the table")
        return self

    def to_domain(self) -> Template:
        def cond(c: ConditionModel | None) -> object:
            return c.to_domain() if c else Always()

        def options(items: list[OptionModel]) -> tuple[Option, ...]:
            return tuple(Option(o.value, o.label, o.weight) for o in items)

        sections = tuple(
            Section(
                id=s.id,
                title=s.title,
                help=s.help,
                show_when=s.show_when.to_domain() if s.show_when else Always(),
                questions=tuple(
                    Question(
                        id=q.id,
                        text=q.text,
                        kind=q.kind,
                        help=q.help,
                        required=q.required,
                        options=options(q.options),
                        minimum=q.min,
                        maximum=q.max,
                        columns=tuple(
                            Column(c.id, c.label, c.kind, options(c.options), c.min, c.max)
                            for c in q.columns
                        ),
                        score=q.score,
                        weight=q.weight,
                        show_when=q.show_when.to_domain() if q.show_when else Always(),
                        require_when=q.require_when.to_domain() if q.require_when else None,
                        provisions=tuple(q.provisions),
                    )
                    for q in s.questions
                ),
            )
            for s in self.sections
        )
        sc = self.scoring
        return Template(
            urn=self.urn,
            version=self.version,
            title=self.title,
            description=self.description,
            sections=sections,
            scoring=Scoring(
                method=sc.method,
                levels=tuple(LevelThreshold(lv.at, lv.level) for lv in sc.levels),
                rule_text=sc.rule_text,
                discount_threshold=sc.discount_threshold,
                discount=sc.discount,
                table=sc.table,
                factors=tuple(sc.factors),
                probability=sc.probability,
            ),
            red_lines=tuple(
                RedLineRule(r.id, r.when.to_domain(), r.provision, r.message, r.verdict)
                for r in self.red_lines
            ),
            provisions=tuple(self.provisions),
            requirements=tuple(self.requirements),
            signoff_roles=tuple(self.signoff_roles),
            requires_red_line_screening=self.requires_red_line_screening,
        )


def templates_dir() -> Path:
    return Path(str(resources.files("ombud.resources").joinpath("templates")))


def load_template(path: Path, catalogue: Catalogue | None = None) -> Template:
    model = validate(TemplateModel, path)
    expected = f"{model.urn.rsplit(':', 1)[1]}-{model.version}.yaml"
    if path.name != expected:
        raise SchemaError(
            f"{path.name}: a template file is named after its URN and version: {expected}",
            [FieldProblem(("file", path.name, "line", 1, "urn"), f"expected {expected}")],
        )
    if catalogue is not None:
        cited = [
            *model.provisions,
            *(q for s in model.sections for x in s.questions for q in x.provisions),
            *(r.provision for r in model.red_lines),
        ]
        unknown = [p for p in cited if catalogue.provision(p) is None]
        if unknown:
            raise SchemaError(
                f"{path.name}: cites {unknown[0]}, which is not in the catalogue",
                [
                    FieldProblem(("file", path.name, "line", 0, "provisions"), f"unknown {p}")
                    for p in unknown
                ],
            )
    return model.to_domain()


def load_templates(
    catalogue: Catalogue | None = None, directory: Path | None = None
) -> dict[str, Template]:
    """Every template version, keyed by ``urn:version``."""
    directory = directory or templates_dir()
    out: dict[str, Template] = {}
    for path in sorted(directory.glob("*.yaml")):
        t = load_template(path, catalogue)
        out[t.key] = t
    return out
