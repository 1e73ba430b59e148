"""The reports domain: periods and schedules, the report content model, Chinese formatting, chart geometry.

Pure: no I/O, no wall clock; every instant is a parameter.
"""
