"""duban alerts service."""
