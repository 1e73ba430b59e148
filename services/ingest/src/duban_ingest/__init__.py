"""duban ingest service."""
