"""What templates know of the instruments' vocabulary."""

from __future__ import annotations

from typing import Any

from ombud.instruments.domain import Topic

TEMPLATE_GLOBALS: dict[str, Any] = {"Topic": Topic}
