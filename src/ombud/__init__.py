"""ombud: the 2024 international AI instruments put into daily practice."""

__version__ = "0.1.0"
