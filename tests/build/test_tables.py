"""Loose markdown tables."""

import pytest

from fhir_ire.errors import BuildError
from fhir_ire.sources.tables import read_tables


def test_rows_with_and_without_leading_pipes():
    lines = ["| Code | Name | Note |", "|---|---|---|", "| A | a | x |", "B | b | y |", "C | c | z", "", "after"]
    (t,) = read_tables(lines, "f")
    assert [cells for _, cells in t.rows] == [["A", "a", "x"], ["B", "b", "y"], ["C", "c", "z"]]
    assert [n for n, _ in t.rows] == [3, 4, 5] and not t.cut_off


def test_next_table_header_ends_the_previous_table():
    lines = ["| M | D |", "|---|---|", "22 | x |", "| T | S |", "|---|---|", "| 1 | y |", ""]
    a, b = read_tables(lines, "f")
    assert a.rows == [(3, ["22", "x"])] and b.header == ["T", "S"] and b.rows == [(6, ["1", "y"])]


def test_table_cut_off_at_end_of_file():
    (t,) = read_tables(["| M | D |", "|---"], "f")
    assert t.cut_off and t.rows == []
    (t,) = read_tables(["| M | D |", "|---|---|", "22 | x |"], "f")  # no final newline
    assert t.cut_off and len(t.rows) == 1


def test_complete_table_at_end_with_newline_is_not_cut_off():
    (t,) = read_tables(["| M | D |", "|---|---|", "22 | x |", ""], "f")
    assert not t.cut_off


def test_extra_cells_join_the_last_column():
    (t,) = read_tables(["| M | D |", "|---|---|", "22 | a | b |", ""], "f")
    assert t.rows[0][1] == ["22", "a | b"]


def test_short_row_is_an_error():
    with pytest.raises(BuildError, match=r"f:3: truncated table row: 2 of 3 cells"):
        read_tables(["| M | D | W |", "|---|---|---|", "22 | Increased proc", ""], "f")
