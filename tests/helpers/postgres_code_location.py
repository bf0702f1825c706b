"""The project's code location with a test-only `monthly_refresh` whose cron the test brings forward.

Everything else is the shipped definitions. The schedule keeps the shipped name, job and evaluation (the months
it asks for, its run key and tags); only the cron fires every minute, and the run reads the bundled snapshot
instead of the publishers' websites, because tests have no internet. The shipped cron stays as it is.
"""

import dagster as dg

import pipeline.definitions
from pipeline.schedules import REFRESH_OP, monthly_refresh_job
from pipeline.schedules import monthly_refresh as shipped

EVERY_MINUTE = "* * * * *"


@dg.schedule(
    name=shipped.name,
    job=monthly_refresh_job,
    cron_schedule=EVERY_MINUTE,
    execution_timezone=shipped.execution_timezone,
    description=f"Test only: the shipped {shipped.name} ({shipped.cron_schedule}) brought forward to every minute.",
)
def monthly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    request = shipped(context)
    assert isinstance(request, dg.RunRequest)
    config = request.run_config["ops"][REFRESH_OP]["config"]
    return request.with_replaced_attrs(
        run_config={"ops": {REFRESH_OP: {"config": {**config, "source_mode": "snapshot"}}}}
    )


pipeline.definitions.all_schedules = lambda: [monthly_refresh]
defs = pipeline.definitions.build_definitions()
