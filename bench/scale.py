"""Scale benchmark: `nhs-readiness run` on 1, 3 and 10 years of SYNTHETIC monthly files.

Every synthetic month is a real month's file from data/snapshot/ (chosen at random, fixed seed) with its period
relabelled inside the file and in its name, so each month is distinct and parses with the real parsers: the RTT
full extract (a zip holding one CSV), the A&E CSV, the cancer workbooks and the sickness absence CSV. The survey
years, the ODS reference files, the trust context extract and the 2012-2019 engagement panel are the snapshot's real
files, copied unchanged: the survey is annual and does not grow with months, and a relabelled copy of one survey year
would be refused by the pipeline's blocking check that no year's scores copy another's. The relabelled months are
not NHS data: the manifest's licence column, the official names (prefixed SYNTHETIC) and PROVENANCE.md say so.
Generated files go to a temp folder (or --workdir) and are never committed.

Each size runs `nhs-readiness run` as a fresh process with the snapshot, raw cache, warehouse, published folder and
DAGSTER_HOME all inside the work folder, and reports wall and CPU time, peak memory (largest process, and the whole
process tree polled from /proc), output sizes and seconds per partition. Goals: ten years under 120 s (issue 17; under
10 minutes and 4 GB in issue 8) on 2 cores, with cost linear in months. Cancer partitions start in October 2023
(performance_sources.csv), so cancer is capped at the months since then.

    uv run python bench/scale.py                    # 1, 3 and 10 years
    uv run python bench/scale.py --years 1,3 --workdir bench/out
    uv run python bench/scale.py --months 3         # a tiny end-to-end check (the slow test runs this)
"""

import argparse
import csv
import hashlib
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.partitions import PERFORMANCE_SOURCES  # noqa: E402
from pipeline.settings import PUBLISHED_DB_NAME, SNAPSHOT_DIR  # noqa: E402

MANIFEST_COLUMNS = [
    "dataset",
    "product",
    "period",
    "path",
    "official_name",
    "official_url",
    "sha256",
    "bytes",
    "licence",
]
SYNTHETIC_LICENCE = (
    "SYNTHETIC benchmark file, not NHS statistics: real rows of {source} ({licence}) with the period relabelled to "
    "{label}"
)
MONTHLY = {  # dataset → products the benchmark resamples (the A&E provider workbook is optional and left out)
    "ae": ("monthly_csv",),
    "rtt": ("full_extract_zip",),
    "cancer": ("combined_workbook", "provider_workbook"),
    "sickness": ("monthly_csv",),
}
RTT_COMPRESSION = 1  # fastest deflate: generation stays quick, and inflating costs about the same at any level


@dataclass(frozen=True)
class RealFile:
    dataset: str
    product: str
    period: str
    path: Path
    official_name: str
    official_url: str = ""
    licence: str = ""

    @property
    def month(self) -> date:
        return date.fromisoformat(self.period)


def real_files(snapshot_dir: Path = SNAPSHOT_DIR) -> list[RealFile]:
    with (snapshot_dir / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        return [
            RealFile(
                row["dataset"],
                row["product"],
                row["period"],
                snapshot_dir / row["path"],
                row["official_name"],
                row["official_url"],
                row["licence"],
            )
            for row in csv.DictReader(handle)
        ]


def shift_month(month: date, by: int) -> date:
    index = month.year * 12 + month.month - 1 + by
    return date(index // 12, index % 12 + 1, 1)


def month_sequence(last: date, count: int, first_allowed: date) -> list[date]:
    """`count` months ending at `last`, oldest first, none before `first_allowed` (where partitions start)."""
    return [m for m in (shift_month(last, -i) for i in reversed(range(count))) if m >= first_allowed]


def last_complete_month(today: date) -> date:
    return shift_month(today.replace(day=1), -1)


# --- relabelling: pure functions of the real file's bytes -----------------------------------------------------


def relabel_ae_csv(data: bytes, new: date) -> bytes:
    """Every `Period` cell (`MSitAE-APRIL-2025`) names the new month; all other bytes stay as published."""
    first_row = data.split(b"\n", 2)[1].decode("utf-8")
    old_period = next(csv.reader([first_row]))[0]
    new_period = re.sub(
        r"([A-Za-z]+)([- ])(\d{4})\s*$", lambda m: f"{new:%B}".upper() + m.group(2) + f"{new:%Y}", old_period
    )
    return re.sub(rb"(?m)^" + re.escape(old_period.encode()) + rb",", new_period.encode() + b",", data)


def relabel_sickness_csv(data: bytes, new: date) -> bytes:
    """Every `DATE` cell (`30/04/2024`, the month's last day) names the new month's last day."""
    last_day = shift_month(new, 1) - timedelta(days=1)
    return re.sub(rb"(?m)^\d{2}/\d{2}/\d{4},", f"{last_day:%d/%m/%Y},".encode(), data)


def rtt_member_name(month: date) -> str:
    last_day = shift_month(month, 1) - timedelta(days=1)
    return f"{last_day:%Y%m%d}-RTT-{month:%B-%Y}-full-extract.csv"


def relabel_rtt_zip(source: Path, target: Path, old: date, new: date, compresslevel: int = RTT_COMPRESSION) -> None:
    """A zip holding one CSV whose `Period` cells (`RTT-April-2026`) name the new month."""
    with zipfile.ZipFile(source) as archive:
        (member,) = [m for m in archive.namelist() if m.endswith(".csv") and not m.startswith("__MACOSX")]
        data = archive.read(member)
    data = data.replace(f"\nRTT-{old:%B-%Y},".encode(), f"\nRTT-{new:%B-%Y},".encode())
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        archive.writestr(rtt_member_name(new), data)


def _rewrite_shared_strings(source: Path, target: Path, replacements: dict[str, str]) -> None:
    """Copy an xlsx, replacing whole text cells of xl/sharedStrings.xml (`>old<` → `>new<`)."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "xl/sharedStrings.xml":
                text = data.decode("utf-8")
                for old, new in replacements.items():
                    text = text.replace(f">{old}<", f">{new}<")
                data = text.encode("utf-8")
            copy.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)


def relabel_cancer_workbook(source: Path, target: Path, old: date, new: date) -> None:
    """The title block's period: `January 2026` (combined workbook) or `Apr-25` (provider workbook)."""
    _rewrite_shared_strings(source, target, {f"{old:%B %Y}": f"{new:%B %Y}", f"{old:%b-%y}": f"{new:%b-%y}"})


# --- the synthetic snapshot -----------------------------------------------------------------------------------


def _synthetic_name(real: RealFile, label: str, suffix: str) -> str:
    return f"SYNTHETIC-{real.dataset}-{real.product}-{label}{suffix}"


def _manifest_row(
    out: Path, path: Path, dataset: str, product: str, period: str, name: str, licence: str, url: str = ""
) -> dict:
    data = path.read_bytes()
    return {
        "dataset": dataset,
        "product": product,
        "period": period,
        "path": str(path.relative_to(out)),
        "official_name": name,
        "official_url": url or f"synthetic:{name}",
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "licence": licence,
    }


def synthesise_month(real: RealFile, month: date, out: Path) -> dict:
    """One synthetic month file from a real one; returns its manifest row."""
    folder = out / real.dataset
    folder.mkdir(parents=True, exist_ok=True)
    suffix = "".join(real.path.suffixes[-2:]) if real.dataset == "rtt" else real.path.suffix
    name = _synthetic_name(real, f"{month:%Y-%m}", suffix)
    target = folder / name
    if real.dataset == "ae":
        target.write_bytes(relabel_ae_csv(real.path.read_bytes(), month))
    elif real.dataset == "sickness":
        target.write_bytes(relabel_sickness_csv(real.path.read_bytes(), month))
    elif real.dataset == "rtt":
        relabel_rtt_zip(real.path, target, real.month, month)
    elif real.dataset == "cancer":
        relabel_cancer_workbook(real.path, target, real.month, month)
    else:
        raise ValueError(f"no relabelling for {real.dataset}")
    licence = SYNTHETIC_LICENCE.format(source=real.path.name, licence=real.licence, label=f"{month:%B %Y}")
    return _manifest_row(out, target, real.dataset, real.product, month.isoformat(), name, licence)


def _copy_real(real: RealFile, snapshot_dir: Path, out: Path) -> dict:
    target = out / real.path.relative_to(snapshot_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copyfile(real.path, target)
    licence = f"real file, unchanged ({real.licence})"
    return _manifest_row(
        out, target, real.dataset, real.product, real.period, real.official_name, licence, real.official_url
    )


def synthesise(
    out: Path, months: int, last_month: date, seed: int = 8, snapshot_dir: Path = SNAPSHOT_DIR
) -> dict[str, int]:
    """Write a synthetic snapshot (files, manifest.csv, PROVENANCE.md) into `out`; returns partitions per dataset.
    Every file of a dataset that is not monthly is the snapshot's own, unchanged."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    files = real_files(snapshot_dir)
    unchanged = [f for f in files if f.dataset not in MONTHLY]
    rows = [_copy_real(real, snapshot_dir, out) for real in unchanged]
    counts = {}
    for dataset, products in MONTHLY.items():
        pool = [f for f in files if f.dataset == dataset and f.product in products]
        start = date.fromisoformat(PERFORMANCE_SOURCES[dataset]["partition_start"])
        chosen = month_sequence(last_month, months, start)
        counts[dataset] = len(chosen)
        rows += [synthesise_month(rng.choice(pool), month, out) for month in chosen]
    counts["staff_survey"] = len({f.period for f in unchanged if f.dataset == "staff_survey"} - {"2012-2019"})
    with (out / "manifest.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    (out / "PROVENANCE.md").write_text(
        "# SYNTHETIC benchmark snapshot\n\nGenerated by bench/scale.py for speed and memory measurement only. Every "
        "monthly file is a real file from data/snapshot/ with its period relabelled; the numbers are real rows "
        "placed in months they do not belong to, so nothing here is NHS statistics. Never publish it. The survey, "
        "reference and context files are the snapshot's own, unchanged.\n",
        encoding="utf-8",
    )
    return counts


# --- running and measuring ------------------------------------------------------------------------------------


def _tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    total, pending = 0, [root_pid]
    while pending:
        pid = pending.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024 if "VmRSS" in status else 0
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (/proc/<pid>/stat fields 14 and 15)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def run_environment(workdir: Path, snapshot: Path, dagster_home: bool = True) -> dict[str, str]:
    """Every storage location inside the work folder (file:// URIs for two of them, as a deployment might).

    Without `dagster_home` the run uses the project's default instance (work/dagster_home, beside the warehouse),
    as `nhs-readiness run` does when DAGSTER_HOME is unset."""
    home = workdir / "dagster_home"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    if dagster_home:
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "pipeline" / "instance" / "dagster.yaml", home / "dagster.yaml")
        env["DAGSTER_HOME"] = str(home)
    return {
        **env,
        "NHS_READINESS_SNAPSHOT_DIR": str(snapshot),
        "NHS_READINESS_RAW_DIR": (workdir / "raw").as_uri(),
        "NHS_READINESS_WAREHOUSE": str(workdir / "work" / "warehouse.duckdb"),
        "NHS_READINESS_PUBLISHED_DIR": (workdir / "published").resolve().as_uri(),
        "NHS_READINESS_SOURCE": "snapshot",
    }


def run_pipeline(workdir: Path, snapshot: Path, dagster_home: bool = True) -> dict:
    """`nhs-readiness run` as a child process: wall time, peak memory, per-dataset time, output sizes."""
    env = run_environment(workdir, snapshot, dagster_home)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peak_tree = 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak_tree
        while not stop.wait(0.2):
            peak_tree = max(peak_tree, _tree_rss_bytes(child.pid))

    poller = threading.Thread(target=poll, daemon=True)
    load_before = os.getloadavg()[0]
    poller.start()
    lines, cpu_lines = [], []
    for line in child.stdout:
        lines.append((time.perf_counter() - started, line))
        cpu_lines.append((_cpu_seconds(child.pid), line))
    _, status, usage = os.wait4(child.pid, 0)
    stop.set()
    poller.join()
    seconds = time.perf_counter() - started
    output = "".join(line for _, line in lines)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"nhs-readiness run failed:\n{output[-6000:]}")
    published = workdir / "published"
    return {
        "seconds": round(seconds, 1),
        # CPU seconds of the run's process tree: on a shared machine they move far less than wall time
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "load_average_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # the largest process (Linux reports kB)
        "peak_tree_rss_mb": round(peak_tree / 2**20),
        "phase_seconds": phase_seconds(lines),
        "partition_seconds_first_last_quarter": partition_seconds(lines),
        "partition_cpu_seconds_first_last_quarter": partition_seconds(cpu_lines),
        "sizes_mb": {
            "warehouse": round(_size(workdir / "work") / 1e6, 1),
            "published_duckdb": round(_size(published / PUBLISHED_DB_NAME) / 1e6, 1),
            "parquet": round(_size(published / "parquet") / 1e6, 1),
            "report": round(_size(published / "report") / 1e6, 1),
            "dagster_home": round(_size(workdir / "dagster_home") / 1e6, 1),
        },
        "log_tail": output[-400:],
    }


def phase_seconds(lines: list[tuple[float, str]]) -> dict[str, float]:
    """Time from the end of the previous phase to the last progress line of each phase (reference, each dataset's
    partitions, downstream), from when each `✓` line arrived."""
    last_seen: dict[str, float] = {}
    for arrived, line in lines:
        if line.startswith("  ✓ "):
            phase = line[4:27].split()[0]
            last_seen[phase] = arrived
    phases, previous = {}, 0.0
    for phase, finished in sorted(last_seen.items(), key=lambda item: item[1]):
        phases[phase] = round(finished - previous, 1)
        previous = finished
    return phases


def partition_seconds(lines: list[tuple[float, str]]) -> dict[str, list[float]]:
    """Mean seconds per partition over the first and the last quarter of each monthly dataset's partitions: equal
    figures mean a month costs the same however many months are already stored (no growth with history). Given CPU
    timestamps instead of wall ones, the same figures are the run's own CPU time, which other load barely moves."""
    finished: dict[str, dict[str, float]] = {}
    for arrived, line in lines:
        # a dataset's months run as one range, each month's line printed when that month is committed
        month = re.search(r"\[(\d{4}-\d{2}-\d{2})\]", line)
        if line.startswith("  ✓ ") and month:
            phase = line[4:27].split()[0]
            if phase in MONTHLY:
                finished.setdefault(phase, {})[month.group(1)] = arrived
    result = {}
    for dataset, ends in finished.items():
        times = sorted(ends.values())
        durations = [later - earlier for earlier, later in itertools.pairwise(times)]
        quarter = max(1, len(durations) // 4)
        if durations:
            first, last = durations[:quarter], durations[-quarter:]
            result[dataset] = [round(sum(first) / len(first), 2), round(sum(last) / len(last), 2)]
    return result


def measure(years: int | None, months: int | None, workdir: Path, last_month: date, dagster_home: bool = True) -> dict:
    months = months or 12 * years
    label = f"{years} y" if years else f"{months} m"
    folder = workdir / f"size-{label.replace(' ', '')}"
    shutil.rmtree(folder, ignore_errors=True)
    began = time.perf_counter()
    counts = synthesise(folder / "snapshot", months, last_month)
    generated = time.perf_counter() - began
    result = run_pipeline(folder, folder / "snapshot", dagster_home)
    monthly = sum(counts[d] for d in MONTHLY)
    return {
        "size": label,
        "instance": "SQLite DAGSTER_HOME" if dagster_home else "SQLite beside the warehouse",
        "partitions": counts,
        "monthly_partitions": monthly,
        "input_mb": round(_size(folder / "snapshot") / 1e6, 1),
        "generate_seconds": round(generated, 1),
        **result,
        "seconds_per_monthly_partition": round(result["seconds"] / monthly, 2),
    }


def table(results: list[dict]) -> str:
    header = (
        "| size | instance | monthly partitions (ae/rtt/cancer/sickness) | survey years | wall s | CPU s | "
        "s per partition | "
        "load avg | peak RSS MB (largest / tree) | warehouse MB | published MB | parquet MB | report MB | "
        "DAGSTER_HOME MB | input MB |"
    )
    lines = [header, "|" + "|".join("---" for _ in range(header.count("|") - 1)) + "|"]
    for r in results:
        p, s = r["partitions"], r["sizes_mb"]
        lines.append(
            f"| {r['size']} | {r['instance']} | {r['monthly_partitions']} "
            f"({p['ae']}/{p['rtt']}/{p['cancer']}/{p['sickness']}) | "
            f"{p['staff_survey']} | {r['seconds']} | {r['cpu_seconds']} | {r['seconds_per_monthly_partition']} | "
            f"{r['load_average_1min'][0]}→{r['load_average_1min'][1]} | {r['peak_rss_mb']} / {r['peak_tree_rss_mb']} | "
            f"{s['warehouse']} | {s['published_duckdb']} | {s['parquet']} | {s['report']} | {s['dagster_home']} | "
            f"{r['input_mb']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", default="1,3,10", help="comma-separated sizes in years (default 1,3,10)")
    parser.add_argument("--months", type=int, help="one size in months instead of --years (e.g. 3)")
    parser.add_argument("--workdir", type=Path, help="build here and keep it (default: a temp folder, removed)")
    parser.add_argument(
        "--in-memory-instance",
        action="store_true",
        help="run without DAGSTER_HOME (the default instance beside the warehouse) instead of one of its own",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="nhs-scale-"))).resolve()
    last_month = last_complete_month(date.today())
    sizes = [(None, args.months)] if args.months else [(int(y), None) for y in args.years.split(",")]
    results = []
    try:
        for years, months in sizes:
            results.append(measure(years, months, workdir, last_month, not args.in_memory_instance))
            print(json.dumps({k: v for k, v in results[-1].items() if k != "log_tail"}), flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
