"""Zip guards on the real RTT full-extract zip and on broken archives the tests build."""

import io
import re
import stat
import zipfile
from pathlib import Path

import pytest

from pipeline.errors import InputDataError
from pipeline.fetch.zipsafe import UnsafeArchiveError, extract_member, safe_members

RTT_ZIP = Path("rtt") / "20260430-RTT-April-2026-full-extract.csv.zip"
RTT_MEMBER = "20260430-RTT-April-2026-full-extract.csv"
NSS24_ORGANISATIONAL = "NSS24 detailed spreadsheets organisational results.xlsx"


def build_zip(path: Path, members: dict[str | zipfile.ZipInfo, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    """A zip written by the test (synthetic archive structure; only the member names and sizes matter)."""
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_real_rtt_zip_lists_the_extract_and_ignores_macosx(real_data: Path) -> None:
    # the real zip holds the 81,624,872-byte CSV and a stray __MACOSX/._… entry (rtt/PROVENANCE.md)
    assert safe_members(real_data / RTT_ZIP) == [RTT_MEMBER]


def test_real_rtt_zip_is_refused_above_an_unpacked_cap(real_data: Path) -> None:
    with pytest.raises(UnsafeArchiveError, match="unpacks to more than the 50,000,000-byte cap"):
        safe_members(real_data / RTT_ZIP, max_unpacked_bytes=50_000_000)


@pytest.mark.parametrize(
    "member",
    ["../evil.csv", "data/../../evil.csv", "/etc/cron.d/evil", "C:\\Windows\\evil.csv", "..\\evil.csv"],
)
def test_path_traversal_member_names_are_refused(tmp_path: Path, member: str) -> None:
    archive = build_zip(tmp_path / "traversal.zip", {"ok.csv": b"a,b\n", zipfile.ZipInfo(member): b"x"})
    with pytest.raises(UnsafeArchiveError) as error:
        safe_members(archive)
    assert isinstance(error.value, InputDataError)
    assert "file 'traversal.zip'" in str(error.value) and repr(member) in str(error.value)
    assert "path traversal" in str(error.value)


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    # 8 MiB of zeros packs to under a hundred bytes with bzip2: far more than 1000x
    archive = build_zip(tmp_path / "bomb.zip", {"zeros.csv": bytes(8 << 20)}, method=zipfile.ZIP_BZIP2)
    packed = zipfile.ZipFile(archive).infolist()[0].compress_size
    assert 1000 * packed < (8 << 20)
    with pytest.raises(UnsafeArchiveError, match=r"'zeros.csv' unpacks to 8,388,608 bytes .* a zip bomb"):
        safe_members(archive)


def test_symbolic_links_are_refused(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("link.csv")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = build_zip(tmp_path / "link.zip", {link: b"/etc/passwd"})
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        safe_members(archive)


def test_truncated_archive_is_a_clear_error(real_data: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "20260430-RTT-April-2026-full-extract.csv.zip"
    truncated.write_bytes((real_data / RTT_ZIP).read_bytes()[:1_000_000])
    with pytest.raises(UnsafeArchiveError, match=r"full-extract\.csv\.zip': not a readable zip"):
        safe_members(truncated)


def test_extract_member_writes_the_exact_bytes_atomically(real_data: Path, tmp_path: Path) -> None:
    workbook = real_data / "nhs-staff-survey-nss24-workbooks" / NSS24_ORGANISATIONAL
    archive = build_zip(tmp_path / "survey.zip", {"NSS24/organisational results.xlsx": workbook.read_bytes()})
    target = extract_member(archive, "NSS24/organisational results.xlsx", tmp_path / "out" / "org.xlsx")
    assert target.read_bytes() == workbook.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == ["org.xlsx"]  # no temporary file left


def test_extract_member_leaves_nothing_when_the_cap_is_hit(tmp_path: Path) -> None:
    archive = build_zip(tmp_path / "big.zip", {"big.csv": b"1,2,3\n" * 100_000})
    with pytest.raises(UnsafeArchiveError, match="more than the 1,000-byte cap"):
        extract_member(archive, "big.csv", tmp_path / "out" / "big.csv", max_bytes=1_000)
    assert not (tmp_path / "out").exists()


def test_extract_member_refuses_a_member_that_is_not_safe(tmp_path: Path) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("__MACOSX/._x.csv", b"resource fork")
    (tmp_path / "mac.zip").write_bytes(archive.getvalue())
    with pytest.raises(UnsafeArchiveError, match=re.escape("has no safe member named '__MACOSX/._x.csv'")):
        extract_member(tmp_path / "mac.zip", "__MACOSX/._x.csv", tmp_path / "x.csv")
