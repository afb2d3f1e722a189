"""specs: the deployment spec, pure.

Owns the schema (schema.py), the words of the contract (vocabulary.py), validation
(validation.py), the recommender that picks GPU, region, storage and scaling (recommend.py),
the cost estimate (cost.py), the manifest renderers (render.py) and the dry run (preview.py).
No database queries and no network: callers pass a catalog snapshot and the teams a user may use.
"""
