"""Assets of the staged stage (Dagster group `staged`)."""
