"""Assets of the index stage (Dagster group `index`)."""
