"""ombud.web.pages."""
