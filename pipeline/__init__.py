"""nhs-change-readiness: Dagster definitions, resources, schedules and the command line."""
