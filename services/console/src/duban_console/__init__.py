"""duban console (督办台)."""
