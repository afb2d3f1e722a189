"""Shared pytest fixtures (registered in tests/conftest.py)."""
