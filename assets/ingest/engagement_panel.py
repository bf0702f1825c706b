"""Ingest the 2012-2019 acute-trust engagement and mortality panel (ebmgt/NHS-wellbeing, data.NHS.2012_2019.csv).

It is a researchers' extract behind a published study, not a file the NHS publishes, so it comes from the
bundled snapshot in both source modes (`web` included); index_validity re-estimates the study's model on it.
"""

from assets.ingest.raw_files import raw_files_asset
from pipeline.resources import SourceResource
from pipeline.sources import SourceFile, snapshot_file

DATASET = "engagement_panel"
SOURCE = ("staff_survey", "engagement_shmi_panel", "2012-2019")  # its row in data/snapshot/manifest.csv


def panel_files(source: SourceResource, partition: str | None) -> list[SourceFile]:
    return [snapshot_file(source.snapshot_dir, *SOURCE)]


raw_engagement_panel = raw_files_asset(
    DATASET,
    panel_files,
    description=(
        "The 2012-2019 NHS acute-trust panel of staff engagement (1-5 scale) and SHMI behind Badgett et al. (2020), "
        "from the bundled snapshot in every source mode (it is a researchers' extract, not an NHS publication)."
    ),
)
