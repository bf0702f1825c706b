"""The project's code location with a test-only `monthly_refresh` whose cron the test brings forward.

Everything else is the shipped definitions. The schedule and its follow-up sensor are the shipped ones, made by
the same factories with the shipped names; only the cron fires every minute, the sensor looks every 5 s instead of
30 s (the test waits for it), and the runs read the bundled snapshot instead of the publishers' websites, because
tests have no internet. The shipped cron and interval stay as they are.
"""

import pipeline.definitions
from pipeline.schedules import follow_up_sensor, monthly_refresh_downstream, refresh_schedule
from pipeline.schedules import monthly_refresh as shipped

EVERY_MINUTE = "* * * * *"

monthly_refresh = refresh_schedule(EVERY_MINUTE, "snapshot", name=shipped.name)
downstream = follow_up_sensor("snapshot", name=monthly_refresh_downstream.name, minimum_interval_seconds=5)

pipeline.definitions.all_schedules = lambda: [monthly_refresh]
pipeline.definitions.all_sensors = lambda: [downstream]
defs = pipeline.definitions.build_definitions()
