"""Partitioning schemes and the datasets that use them.

A dataset's partitions to build are the periods its source can provide for any of its products
(the snapshot manifest offline; the publishers' catalogues in web mode).
"""

from dataclasses import dataclass

import dagster as dg

# Survey year Y = fieldwork autumn Y, published about March Y+1; the People Promise era starts in 2021.
SURVEY_YEARS = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", fmt="%Y", start="2021")


@dataclass(frozen=True)
class PartitionedDataset:
    job_name: str
    dataset: str
    products: tuple[str, ...]
    partitions_def: dg.PartitionsDefinition
    description: str


PARTITIONED_DATASETS: tuple[PartitionedDataset, ...] = (
    PartitionedDataset(
        job_name="staff_survey_job",
        dataset="staff_survey",
        products=("organisational_workbook", "trust_extract"),
        partitions_def=SURVEY_YEARS,
        description="NHS Staff Survey, one survey year per partition: fetch, parse and stage.",
    ),
)
