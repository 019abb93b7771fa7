"""Builders and data for the drift and CI tests."""
