"""Reusable test helpers (real server processes)."""
