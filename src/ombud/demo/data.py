"""Reads the shipped demo data (resources/demo/demo.yaml)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

# The shipped demo audit data (generated, with a known injected bias: see its README).
DEMO_AUDIT_DIR = str(Path(__file__).resolve().parents[1] / "resources" / "demo" / "audit")


def read_demo_data() -> dict[str, Any]:
    text = resources.files("ombud.resources.demo").joinpath("demo.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("demo.yaml must hold a mapping")
    return data
