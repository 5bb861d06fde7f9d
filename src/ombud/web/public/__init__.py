"""ombud.web.public."""
