"""Assets of the indicators stage (Dagster group `indicators`)."""
