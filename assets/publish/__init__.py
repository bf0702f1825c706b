"""Assets of the publish stage (Dagster group `publish`)."""
