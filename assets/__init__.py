"""Dagster assets by stage: ingest → staged → indicators → factors → index → publish."""
