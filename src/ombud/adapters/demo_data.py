"""Reads the shipped demo data (resources/demo/demo.yaml)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def read_demo_data() -> dict[str, Any]:
    text = resources.files("ombud.resources.demo").joinpath("demo.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("demo.yaml must hold a mapping")
    return data
