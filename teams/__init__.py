"""teams: who may do what.

Owns teams (budget, GPU quota), memberships with roles (viewer, deployer, owner), API tokens
(stored hashed) and token authentication; selectors.py answers every role question.
"""
