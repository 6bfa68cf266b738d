"""Prescription: requests for a place, their answers, entries and exits.

Not built yet: the catalogue comes first (see the issues).
"""
