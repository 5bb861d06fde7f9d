"""QR codes (segno) pointing to a system's public AI notice."""

from __future__ import annotations

import segno


def qr_svg(url: str) -> str:
    """An inline SVG QR code for ``url`` (error correction M, no external resources)."""
    return str(segno.make(url, error="m").svg_inline(scale=4, title="QR code to the AI notice"))
