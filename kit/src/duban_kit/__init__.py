"""The service chassis: what every duban service runs on, with no domain knowledge."""
