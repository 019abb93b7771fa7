"""Test support for sandbox_data (a package, so type checkers name its modules as tests import them)."""
