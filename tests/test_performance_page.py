"""Every figure on the performance page traces to a `make bench` record (benchmarks/results/):
each table names its record on the line above it (« Record: [`name`](../benchmarks/results/name.json) »),
each row ends with the record keys of its figures (« `benchmark: flattened/key` »), and each key's
value is shown in the row as the page rounds it. A figure copied by hand from a run that no record
keeps, or a record rerun without updating the page, fails here. Reads files only."""

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from run_all import flattened  # noqa: E402 (the records' own flattening: {"a": {"b": 1}} -> {"a/b": 1})

PAGE = REPO / "docs" / "performance.md"
RECORD_LINE = re.compile(r"^Record: \[`([\w.-]+)`\]\(\.\./benchmarks/results/\1\.json\)", re.MULTILINE)
KEY = re.compile(r"`([\w.-]+): ([^`]+)`")
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")


def shows(value: float, number: str) -> bool:
    """Whether `number`, as written on the page, is `value` rounded to its shown decimals."""
    decimals = len(number.partition(".")[2])
    return abs(value - float(number)) <= 0.5 * 10**-decimals + 1e-9


def tables() -> list[tuple[str, list[str]]]:
    """(the record named above it, its body rows) for every table of the page."""
    found, record, rows = [], None, None
    for line in PAGE.read_text().splitlines():
        if match := RECORD_LINE.match(line):
            record = match.group(1)
        if line.startswith("|"):
            if rows is None:
                rows = []
                found.append((record, rows))
            rows.append(line)
        else:
            rows = None
    return [(record, rows[2:]) for record, rows in found]  # without the header and its rule


def test_every_table_names_an_existing_record_and_every_row_its_keys():
    assert tables(), "no table on the performance page"
    for record, rows in tables():
        assert record is not None, f"a table with no « Record: » line above it: {rows[0]}"
        assert (REPO / "benchmarks" / "results" / f"{record}.json").exists(), record
        for row in rows:
            assert KEY.search(row.rsplit("|", 2)[-2]), f"a row without its record keys: {row}"


def test_every_figure_shown_is_its_records():
    for record, rows in tables():
        benchmarks = json.loads((REPO / "benchmarks" / "results" / f"{record}.json").read_text())["benchmarks"]
        for row in rows:
            figures_cell, keys_cell = row.rsplit("|", 2)[-3:-1]
            shown = NUMBER.findall(row.rsplit("|", 2)[0] + figures_cell)
            for benchmark, key in KEY.findall(keys_cell):
                value = flattened(benchmarks[benchmark]["figures"]).get(key)
                assert value is not None, f"{record}: no {benchmark}: {key}"
                assert any(shows(value, number) for number in shown), f"{benchmark}: {key} = {value} not in: {row}"


def test_a_figure_is_checked_as_rounded():
    assert shows(8.152, "8.15") and shows(8.152, "8") and shows(0.0045, "0.0045")
    assert not shows(8.152, "8.3") and not shows(8.152, "8.14") and not shows(5.4111, "5.5")
