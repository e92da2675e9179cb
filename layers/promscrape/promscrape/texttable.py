"""Aligned text tables for the terminal (`promscrape status`, `promscrape dlq list`)."""

from collections.abc import Sequence


def align(rows: Sequence[Sequence[str]]) -> str:
    """Rows as lines, every column padded to its widest cell but the last, which may be long."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
        + "  "
        + row[-1]
        + "\n"
        for row in rows
    )
