"""What a Dagster instance recorded, read the way an administrator would: for tests that count materializations."""

from collections import Counter
from pathlib import Path

import dagster as dg


def materializations(home: Path, by_partition: bool = False) -> Counter[str]:
    """How many materialization events each asset (or asset partition, as `asset [partition]`) has."""
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        counts: Counter[str] = Counter()
        for run in instance.get_runs():
            for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
                event = entry.dagster_event
                name = event.asset_key.to_user_string()
                partition = event.event_specific_data.materialization.partition
                counts[f"{name} [{partition}]" if by_partition and partition else name] += 1
        return counts
    finally:
        instance.dispose()
