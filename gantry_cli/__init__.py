"""gantry: the command line client of Gantry's REST API (SPEC.md), for people at a terminal and for scripts.

A client only: it talks HTTP to a Gantry server and imports nothing from the server's code or from Django
(an import-linter contract in pyproject.toml keeps it so). Exit codes: errors.py.
"""
