"""The source catalogue: allow-listed URLs, and periods read from the publishers' real file names."""

import pytest

from pipeline.fetch.catalogue import catalogue, entry_for, known_urls
from pipeline.fetch.urls import ALLOWED_HOSTS, host_of


def test_every_catalogue_and_known_url_is_https_on_an_allowed_host() -> None:
    urls = [page for entry in catalogue().values() for page in entry.landing_pages] + [k.url for k in known_urls()]
    assert urls and all(url.startswith("https://") and host_of(url) in ALLOWED_HOSTS for url in urls)


def test_each_known_url_is_for_the_period_its_file_name_says() -> None:
    for known in known_urls():
        entry = entry_for(known.dataset, known.product)
        assert entry is not None, known
        if entry.period_kind == "current":
            assert known.period == "current"
        else:
            assert entry.period_of(entry.cache_name_for(known.url)) == known.period, known.url


def test_every_web_product_the_brief_names_is_catalogued() -> None:
    assert set(catalogue()) == {
        ("staff_survey", "organisational_workbook"),
        ("staff_survey", "benchmark_workbook"),
        ("ods", "etr"),
        ("ae", "monthly_csv"),
        ("ae", "provider_workbook"),
        ("rtt", "full_extract_zip"),
        ("cancer", "combined_workbook"),
        ("cancer", "provider_workbook"),
        ("sickness", "monthly_csv"),
    }
    assert entry_for("staff_survey", "trust_extract") is None  # snapshot only


@pytest.mark.parametrize(
    ("dataset", "product", "name", "period", "revised"),
    [
        # official names from ae-attendances/PROVENANCE.md and data-sources.md §4.1
        ("ae", "monthly_csv", "Monthly-AE-May-2024.csv", "2024-05-01", False),
        ("ae", "monthly_csv", "Monthly-AE-July-2024-revised.csv", "2024-07-01", True),
        ("ae", "monthly_csv", "Monthly-AE-June-2025-1-1.csv", "2025-06-01", False),  # WordPress duplicate suffix
        ("ae", "provider_workbook", "June-2025-AE-by-provider-3euC4-1.xlsx", "2025-06-01", False),
        # cancer-waiting-times/PROVENANCE.md
        ("cancer", "provider_workbook", "APRIL-2025-CWT-CRS-PROVIDER-WORKBOOK-PROVISIONAL.xlsx", "2025-04-01", False),
        ("cancer", "combined_workbook", "January-2026-Monthly-Combined-Workbook-Provisional.xlsx", "2026-01-01", False),
        # sickness-absence/PROVENANCE.md (URL-decoded file name)
        ("sickness", "monthly_csv", "NHS Sickness Absence rates CSV, March 2025.csv", "2025-03-01", False),
        # RTT link names as public download code records them (data-sources.md §4.3 gives the link text only)
        ("rtt", "full_extract_zip", "Full-CSV-data-file-Mar24-ZIP-3832K-revised.zip", "2024-03-01", True),
        ("rtt", "full_extract_zip", "Full-CSV-data-file-Dec23-ZIP-3569K-58522.zip", "2023-12-01", False),
        # data-sources.md §3.2
        ("staff_survey", "organisational_workbook", "NSS25-Detailed-spreadsheets.zip", "2025", False),
        ("staff_survey", "benchmark_workbook", "Benchmark_report_excel_data_2017-2021.xlsx", "2021", False),
        ("staff_survey", "benchmark_workbook", "benchmark_report_excel_data_2018-2022-v2.xlsx", "2022", True),
        ("staff_survey", "benchmark_workbook", "Benchmark-report-Excel-data-for-2020-2024.xlsx", "2024", False),
        ("staff_survey", "benchmark_workbook", "NSS-Benchmark-report-excel-data-for-2021-2025-v2.xlsx", "2025", True),
    ],
)
def test_real_file_names_give_their_period(dataset: str, product: str, name: str, period: str, revised: bool) -> None:
    entry = entry_for(dataset, product)
    assert entry is not None
    assert entry.period_of(name) == period
    assert (entry.revision_rank(name) > (0, 0)) is revised


def test_names_of_other_products_are_not_mistaken_for_this_one() -> None:
    ae_csv = entry_for("ae", "monthly_csv")
    combined = entry_for("cancer", "combined_workbook")
    assert ae_csv is not None and combined is not None
    assert ae_csv.period_of("June-2025-AE-by-provider-3euC4-1.xlsx") is None
    assert combined.period_of("APRIL-2025-CWT-CRS-PROVIDER-WORKBOOK-PROVISIONAL.xlsx") is None


def test_v2_benchmark_release_outranks_the_first() -> None:
    entry = entry_for("staff_survey", "benchmark_workbook")
    assert entry is not None
    assert entry.revision_rank("benchmark_report_excel_data_2019-2023_v2.xlsx") > entry.revision_rank(
        "benchmark_report_excel_data_2019-2023.xlsx"
    )


def test_organisational_member_is_told_apart_from_the_other_two_workbooks() -> None:
    entry = entry_for("staff_survey", "organisational_workbook")
    assert entry is not None and entry.member_pattern is not None
    # member names from data-sources.md §3.2 / nhs-staff-survey-nss24-workbooks/PROVENANCE.md
    names = [
        "NSS24 detailed spreadsheets national results.xlsx",
        "NSS24 detailed spreadsheets organisation type results.xlsx",
        "NSS24 detailed spreadsheets organisational results.xlsx",
    ]
    assert [n for n in names if entry.member_pattern.search(n)] == [names[2]]
