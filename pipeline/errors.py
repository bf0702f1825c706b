"""Errors that name exactly where bad input was found."""

from pathlib import Path


class InputDataError(ValueError):
    """Raised when a source file cannot be trusted; names the file, sheet, row and column."""

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = Path(file).name if file else "?"
        self.sheet = sheet
        self.row = row
        self.column = column
        super().__init__(self.describe())

    def describe(self) -> str:
        where = [f"file '{self.file}'"]
        if self.sheet is not None:
            where.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.problem}"


class SourceUnavailableError(RuntimeError):
    """The publisher has no file for this period (yet), or it could not be fetched."""


class PublicationBlockedError(RuntimeError):
    """The assembled tables failed the publication gate; the last good published file is untouched."""
