"""duban reports service."""
