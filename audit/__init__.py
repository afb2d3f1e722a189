"""audit: the history of every change, who made it and what it changed.

Owns the Event model and `event_record`, the one function that writes an event; lifecycle,
sync, reconcile, catalog prices, team limits and the admin console all call it. It imports
no other app of Gantry's: everything else stands on it.
"""
