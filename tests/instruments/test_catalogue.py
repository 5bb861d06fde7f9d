"""The instruments catalogue: schema, verbatim quotes, coverage, cross-references.

The source texts are in ../shared/instruments (OMBUD_INSTRUMENTS_SOURCE to
override). Every provision text must occur in its source, whitespace-normalised,
OCR artefacts as printed; every article and numbered paragraph of coe-fc and
every operative paragraph and sub-paragraph of the resolutions must be there.
"""

from __future__ import annotations

import os
import re
import string
from pathlib import Path

import pytest

from ombud.instruments.catalogue import catalogue_dir, load_catalogue
from ombud.instruments.domain import BindingNature, Catalogue, normalise_whitespace
from ombud.kernel.yaml_schema import SchemaError

REPO = Path(__file__).resolve().parents[2]
SOURCE = Path(os.environ.get("OMBUD_INSTRUMENTS_SOURCE", REPO.parent / "shared" / "instruments"))


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def source_text(filename: str) -> str:
    path = SOURCE / filename
    if not path.exists():
        pytest.fail(f"source text {path} is missing (set OMBUD_INSTRUMENTS_SOURCE)")
    return path.read_text("utf-8")


def test_the_five_instruments_are_there_and_marked_binding_or_not(catalogue):
    ids = {i.id for i in catalogue.instruments}
    assert ids == {"coe-fc", "unga-78-265", "ipu-149", "ipu-148", "ipa-cis-2024"}
    binding = {i.id: i.binding for i in catalogue.instruments}
    assert binding["coe-fc"] is BindingNature.BINDING_ONCE_RATIFIED
    for rid in ("unga-78-265", "ipu-149", "ipu-148"):
        assert binding[rid] is BindingNature.NON_BINDING
    assert binding["ipa-cis-2024"] is BindingNature.INFORMATIONAL


def test_every_provision_is_quoted_verbatim(catalogue):
    missing = []
    for instrument in catalogue.instruments:
        source = normalise_whitespace(source_text(instrument.source_file))
        for p in instrument.provisions:
            if normalise_whitespace(p.text) not in source:
                missing.append(p.id)
    assert not missing, f"not verbatim in the source: {missing[:20]}"


def test_every_cross_reference_resolves(catalogue):
    assert catalogue.dangling_refs() == []


def test_headings_are_verbatim_too(catalogue):
    for instrument in catalogue.instruments:
        source = normalise_whitespace(source_text(instrument.source_file))
        for p in instrument.provisions:
            if p.heading:
                assert normalise_whitespace(p.heading) in source, p.id


# -- coverage: IDs expected from the printed structure of each source ---------


def coe_fc_ids(text: str) -> set[str]:
    ids: set[str] = set()
    article = para = None
    for line in text.splitlines():
        if m := re.match(r"^Article (\d+)\s*[–-]", line):
            article, para = m.group(1), None
            ids.add(f"coe-fc:{article}")
        elif article and (m := re.match(r"^(\d+)\.\s", line)):
            para = m.group(1)
            ids.add(f"coe-fc:{article}.{para}")
        elif article and (m := re.match(r"^([a-z])\.\s", line)):
            ids.add(
                f"coe-fc:{article}.{para}.{m.group(1)}"
                if para
                else f"coe-fc:{article}.{m.group(1)}"
            )
    return ids


def unga_ids(text: str) -> set[str]:
    ids: set[str] = set()
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^\s*1\.\s+Resolves", line))
    op = None
    sub = 0
    for line in lines[start:]:
        if m := re.match(r"^\s*(\d{1,2})\.\s+[A-Z]", line):
            op, sub = m.group(1), 0
            ids.add(f"unga-78-265:op{op}")
        elif op and re.match(r"^\s*\(.{1,2}\)\s", line):
            # OCR prints (c) as (¢), (i) as (1), (l) as (I), (q) as (@): count, do not read
            ids.add(f"unga-78-265:op{op}.{string.ascii_lowercase[sub]}")
            sub += 1
    return ids


def ipu_149_ids(text: str) -> set[str]:
    return {f"ipu-149:op{m}" for m in re.findall(r"^(\d+)\. \*", text, re.M)}


def ipu_148_ids(text: str) -> set[str]:
    ops = {f"ipu-148:op{m}" for m in re.findall(r"^(\d+)\.\t", text, re.M)}
    pps = {f"ipu-148:pp{m}" for m in re.findall(r"\((\d+)\)\t", text)}
    return ops | pps


@pytest.mark.parametrize(
    ("instrument", "filename", "expected"),
    [
        ("coe-fc", "004_170781b392460bd8.txt", coe_fc_ids),
        ("unga-78-265", "002_af69606ae96fda6d.txt", unga_ids),
        ("ipu-149", "001_eb66f9843ee5b7e2.txt", ipu_149_ids),
        ("ipu-148", "000_2b4f8937b4549cef.txt", ipu_148_ids),
    ],
)
def test_every_numbered_provision_is_in_the_catalogue(catalogue, instrument, filename, expected):
    wanted = expected(source_text(filename))
    assert len(wanted) > 10
    have = {p.id for p in catalogue.instrument(instrument).provisions}
    assert sorted(wanted - have) == []


def test_ocr_labels_keep_their_logical_ids(catalogue):
    c = catalogue.provision("unga-78-265:op6.c")
    assert c is not None
    assert c.text.startswith("Encouraging the incorporation of feedback mechanisms")
    i = catalogue.provision("unga-78-265:op6.i")
    assert i is not None
    assert "Encouraging, where appropriate and relevant" in i.text


def test_known_provisions_carry_their_classification(catalogue):
    p = catalogue.provision("coe-fc:16.2.g")
    assert p.kind.value in {"obligation", "recommendation"}
    assert "testing" in [s.value for s in p.stages]
    assert catalogue.provision("coe-fc:2").kind.value == "definition"
    assert catalogue.provision("coe-fc:3.4").kind.value == "scope"
    assert "weapons" in [t.value for t in catalogue.provision("ipu-148:op2").topics]


# -- the schema refuses broken files with file, line and field --------------------


def _copy_catalogue(tmp_path: Path) -> Path:
    target = tmp_path / "instruments"
    target.mkdir()
    for f in catalogue_dir().glob("*.yaml"):
        (target / f.name).write_text(f.read_text("utf-8"), "utf-8")
    return target


def test_an_unknown_kind_is_refused_with_file_line_and_field(tmp_path):
    folder = _copy_catalogue(tmp_path)
    path = folder / "ipu-148.yaml"
    lines = path.read_text("utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("kind:"))
    lines[index] = lines[index].split("kind:")[0] + "kind: wish"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(SchemaError) as exc:
        load_catalogue(folder)
    assert exc.value.message.startswith(f"ipu-148.yaml:{index + 1}: provisions[")
    assert ".kind" in exc.value.message


def test_broken_yaml_is_refused_with_its_line(tmp_path):
    folder = _copy_catalogue(tmp_path)
    (folder / "ipu-148.yaml").write_text("id: ipu-148\nprovisions: [\n  - oops: : :\n", "utf-8")
    with pytest.raises(SchemaError) as exc:
        load_catalogue(folder)
    assert exc.value.message.startswith("ipu-148.yaml:")
    assert "not valid YAML" in exc.value.message


def test_a_dangling_reference_is_refused(tmp_path):
    folder = _copy_catalogue(tmp_path)
    path = folder / "ipu-148.yaml"
    text = path.read_text("utf-8")
    text = text.replace("refs: [", "refs: [coe-fc:99.9, ", 1)
    assert "coe-fc:99.9" in text
    path.write_text(text, "utf-8")
    with pytest.raises(SchemaError) as exc:
        load_catalogue(folder)
    assert "coe-fc:99.9" in exc.value.message
