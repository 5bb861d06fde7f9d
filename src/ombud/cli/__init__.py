"""ombud.cli."""
