"""Relational storage: typed models, migrations and short repository functions."""
