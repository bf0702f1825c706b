"""ODS reference data."""
