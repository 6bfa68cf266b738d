"""Prescription: requests for a place, their answers, entries and exits.

``modeles`` (tables), ``workflow`` (the table of transitions), ``demandes``
(the fiche's rules, places, waiting list), ``droits`` (who sees what),
``liens`` (signed links), ``notifications`` (outbox and senders),
``pilotage`` (the département's figures, counted in SQL). No Flask here.
"""
