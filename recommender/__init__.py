"""The recommender core: pure functions and models over domain values, no I/O."""
