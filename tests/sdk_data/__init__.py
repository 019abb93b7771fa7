"""Test support for sdk_data (a package, so type checkers name its modules as tests import them)."""
