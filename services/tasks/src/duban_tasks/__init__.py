"""duban tasks service."""
