"""ombud.web.api.v1."""
