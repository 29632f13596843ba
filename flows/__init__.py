"""Prefect flows: thin wrappers that wire `pipeline/` stages into runs with retries and logs."""
