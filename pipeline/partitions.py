"""Partitioning schemes and the datasets that use them.

Each partitioned dataset has a dynamic partitions definition holding exactly the periods its source lists (the
snapshot manifest offline; the publishers' catalogues in web mode), from the dataset's first parsable period on.
They are filled when the sources are observed (`sync_partitions`), so the UI offers only what the source can
supply instead of every month since the series began (docs/decisions.md).
"""

from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

from pipeline.reference import read_reference
from pipeline.resources import SourceResource


@dataclass(frozen=True)
class PartitionedDataset:
    job_name: str
    dataset: str
    products: tuple[str, ...]
    partitions_def: dg.DynamicPartitionsDefinition
    first_key: str  # periods before it are never offered (the parser starts there)
    description: str

    @property
    def raw_key(self) -> dg.AssetKey:
        return dg.AssetKey(f"raw_{self.dataset}")


# Monthly performance datasets: one partition per data month, keyed by its first day ("2024-04-01"). Start months
# (and the reasons for them) are in data/reference/performance_sources.csv.
PERFORMANCE_SOURCES = {row["dataset"]: row for row in read_reference("performance_sources").iter_rows(named=True)}
# Survey year Y = fieldwork autumn Y, published about March Y+1; the People Promise era starts in 2021.
SURVEY_YEARS = dg.DynamicPartitionsDefinition(name="staff_survey_years")
AE_MONTHS = dg.DynamicPartitionsDefinition(name="ae_months")
RTT_MONTHS = dg.DynamicPartitionsDefinition(name="rtt_months")
CANCER_MONTHS = dg.DynamicPartitionsDefinition(name="cancer_months")
SICKNESS_MONTHS = dg.DynamicPartitionsDefinition(name="sickness_months")


def _monthly(dataset: str, products: tuple[str, ...], partitions_def: dg.DynamicPartitionsDefinition, what: str):
    return PartitionedDataset(
        job_name=f"{dataset}_job",
        dataset=dataset,
        products=products,
        partitions_def=partitions_def,
        first_key=PERFORMANCE_SOURCES[dataset]["partition_start"],
        description=f"{what}, one data month per partition: fetch, parse and stage.",
    )


PARTITIONED_DATASETS: tuple[PartitionedDataset, ...] = (
    PartitionedDataset(
        job_name="staff_survey_job",
        dataset="staff_survey",
        products=("organisational_workbook", "trust_extract", "benchmark_via_extract"),
        partitions_def=SURVEY_YEARS,
        first_key="2021",
        description="NHS Staff Survey, one survey year per partition: fetch, parse and stage.",
    ),
    _monthly("ae", ("monthly_csv", "provider_workbook"), AE_MONTHS, "A&E attendances and emergency admissions"),
    _monthly("rtt", ("full_extract_zip",), RTT_MONTHS, "Referral to treatment waiting times"),
    _monthly(
        "cancer",
        ("combined_workbook", "provider_workbook"),
        CANCER_MONTHS,
        "Cancer waiting times (FDS, 31-day, 62-day)",
    ),
    _monthly("sickness", ("monthly_csv",), SICKNESS_MONTHS, "NHS sickness absence rates"),
)


def dataset_named(dataset: str) -> PartitionedDataset:
    return next(d for d in PARTITIONED_DATASETS if d.dataset == dataset)


def listed_partitions(dataset: PartitionedDataset, source: SourceResource) -> list[str]:
    """The periods the source lists for any of the dataset's products, from its first parsable period on."""
    listed = {p for product in dataset.products for p in source.available(dataset.dataset, product)}
    return sorted(p for p in listed if p >= dataset.first_key)


def add_partitions(instance: dg.DagsterInstance, dataset: PartitionedDataset, keys: Iterable[str]) -> None:
    """Add the periods the dataset's partitions definition does not hold yet, oldest first."""
    held = set(instance.get_dynamic_partitions(dataset.partitions_def.name))
    new = sorted(set(keys) - held)
    if new:
        instance.add_dynamic_partitions(dataset.partitions_def.name, new)


def sync_partitions(
    instance: dg.DagsterInstance, source: SourceResource, datasets: Iterable[PartitionedDataset] = PARTITIONED_DATASETS
) -> dict[str, list[str]]:
    """Make each dataset's partitions the periods the source lists now: add the new ones, and drop those it no
    longer lists unless something was built from them (a partition with a materialization keeps its history).
    Returns the listed periods per dataset."""
    listed_by_dataset = {}
    for dataset in datasets:
        listed = listed_partitions(dataset, source)
        listed_by_dataset[dataset.dataset] = listed
        add_partitions(instance, dataset, listed)
        held = instance.get_dynamic_partitions(dataset.partitions_def.name)
        unlisted = [k for k in held if k not in set(listed)]
        if unlisted:
            built = instance.get_materialized_partitions(dataset.raw_key)
            for key in unlisted:
                if key not in built:
                    instance.delete_dynamic_partition(dataset.partitions_def.name, key)
    return listed_by_dataset
