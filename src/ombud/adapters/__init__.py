"""ombud.adapters."""
