"""Rows of Django models read and written in plain SQL built from the models' own fields, where the ORM's work
of building a query each time cost more than running it: the push, the create, token authentication.

At the bottom of the import layers (pyproject.toml) next to formats: any app may use it, it uses no app.
`rows.read` gives model instances as the ORM's `select_related` does; `rows.write` inserts and updates with
values prepared by each field as save() prepares them, so several rows can go in one statement (a
data-modifying WITH, PostgreSQL 15 docs, "WITH Queries", 7.8.4).
"""
