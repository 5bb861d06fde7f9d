"""ombud.web."""
