"""Other bureaus' plan texts with hand-checked gold readings (see README.md)."""
