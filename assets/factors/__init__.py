"""Assets of the factors stage (Dagster group `factors`)."""
