"""Attached files: names cleaned, type decided by content, limits named."""

from __future__ import annotations

import pytest

from ombud.kernel.files import IMAGE_AND_DOCUMENT_TYPES, check_file, clean_name


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("C:\\Users\\eva\\scan.pdf", "scan.pdf"),
        ("../../etc/passwd", "passwd"),
        ("bad\x00name\x1b[31m.png", "badname[31m.png"),
        ("...", "file"),
        ("", "file"),
        ("x" * 300 + ".jpeg", "x" * 195 + ".jpeg"),
        ("résumé – 2026.txt", "résumé – 2026.txt"),
    ],
)
def test_clean_name(raw, clean):
    assert clean_name(raw) == clean
    assert len(clean_name(raw)) <= 200


def test_type_by_content_not_by_name():
    types = IMAGE_AND_DOCUMENT_TYPES
    assert check_file("a.jpg", b"\xff\xd8\xff\xe0rest", types, 100) == ("image/jpeg", None)
    assert check_file("A.PDF", b"%PDF-1.7", types, 100) == ("application/pdf", None)
    assert (
        check_file("a.pdf", b"<html>", types, 100)[1]
        == "a.pdf is not a PDF file (its content says otherwise)."
    )
    assert (
        check_file("a", b"x", types, 100)[1] == "a: only JPG, PDF, PNG or TXT files are accepted."
    )
    assert check_file("t.txt", "ok ✓".encode(), types, 100) == ("text/plain", None)
    assert check_file("t.txt", b"\xff\xfe", types, 100)[1] == "t.txt is not UTF-8 text."
    too_big = check_file("t.txt", b"x" * 1500, types, 1000)[1]
    assert too_big == "t.txt is 1.5 kB; the limit is 1.0 kB."
