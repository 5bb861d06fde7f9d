"""ombud.web.api."""
