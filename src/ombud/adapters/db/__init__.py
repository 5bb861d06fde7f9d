"""ombud.adapters.db."""
