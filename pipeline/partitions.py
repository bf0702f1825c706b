"""Partitioning schemes and the datasets that use them.

A dataset's partitions to build are the periods its source can provide for any of its products
(the snapshot manifest offline; the publishers' catalogues in web mode).
"""

from dataclasses import dataclass

import dagster as dg

from pipeline.reference import read_reference

# Survey year Y = fieldwork autumn Y, published about March Y+1; the People Promise era starts in 2021.
SURVEY_YEARS = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", fmt="%Y", start="2021")


@dataclass(frozen=True)
class PartitionedDataset:
    job_name: str
    dataset: str
    products: tuple[str, ...]
    partitions_def: dg.PartitionsDefinition
    description: str


# Monthly performance datasets: one partition per data month, keyed by its first day ("2024-04-01").
# Start months (and the reasons for them) are in data/reference/performance_sources.csv; they differ per
# dataset, which also keeps the definitions unequal so that each dataset's job selects only its own assets.
PERFORMANCE_SOURCES = {row["dataset"]: row for row in read_reference("performance_sources").iter_rows(named=True)}
AE_MONTHS = dg.MonthlyPartitionsDefinition(start_date=PERFORMANCE_SOURCES["ae"]["partition_start"])
RTT_MONTHS = dg.MonthlyPartitionsDefinition(start_date=PERFORMANCE_SOURCES["rtt"]["partition_start"])
CANCER_MONTHS = dg.MonthlyPartitionsDefinition(start_date=PERFORMANCE_SOURCES["cancer"]["partition_start"])
SICKNESS_MONTHS = dg.MonthlyPartitionsDefinition(start_date=PERFORMANCE_SOURCES["sickness"]["partition_start"])

PARTITIONED_DATASETS: tuple[PartitionedDataset, ...] = (
    PartitionedDataset(
        job_name="staff_survey_job",
        dataset="staff_survey",
        products=("organisational_workbook", "trust_extract", "benchmark_via_extract"),
        partitions_def=SURVEY_YEARS,
        description="NHS Staff Survey, one survey year per partition: fetch, parse and stage.",
    ),
    PartitionedDataset(
        job_name="ae_job",
        dataset="ae",
        products=("monthly_csv", "provider_workbook"),
        partitions_def=AE_MONTHS,
        description="A&E attendances and emergency admissions, one data month per partition: fetch, parse and stage.",
    ),
    PartitionedDataset(
        job_name="rtt_job",
        dataset="rtt",
        products=("full_extract_zip",),
        partitions_def=RTT_MONTHS,
        description="Referral to treatment waiting times, one data month per partition: fetch, parse and stage.",
    ),
    PartitionedDataset(
        job_name="cancer_job",
        dataset="cancer",
        products=("combined_workbook", "provider_workbook"),
        partitions_def=CANCER_MONTHS,
        description="Cancer waiting times (FDS, 31-day, 62-day), one data month per partition: fetch, parse and stage.",
    ),
    PartitionedDataset(
        job_name="sickness_job",
        dataset="sickness",
        products=("monthly_csv",),
        partitions_def=SICKNESS_MONTHS,
        description="NHS sickness absence rates, one data month per partition: fetch, parse and stage.",
    ),
)
