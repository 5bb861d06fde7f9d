"""ombud.services."""
