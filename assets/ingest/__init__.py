"""Assets of the ingest stage (Dagster group `ingest`)."""
