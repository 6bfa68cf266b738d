"""Prescription tables (the next issue fills this module)."""
