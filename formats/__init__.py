"""How Gantry writes money and moments: one format each, for pages, messages, the admin and the audit log.

At the bottom of the import layers (pyproject.toml) so that every app can write an amount or a time the same
way: `formats.money` (pure) and `formats.moments` (the date-time formats of portal/formats, through Django).
"""
