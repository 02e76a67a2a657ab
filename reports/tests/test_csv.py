"""CSV export cells a spreadsheet cannot run, and the spend import's parser."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from reports.csv import LineError, csv_lines, neutralise, parse_spend_csv


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("google", "google"),
        ("", ""),
        (None, ""),
    ],
)
def test_text_that_looks_like_a_formula_gets_a_leading_quote(cell: object, written: str) -> None:
    assert neutralise(cell) == written


@pytest.mark.parametrize("number", [-5, -2.5, Decimal("-12.30"), 0, 42])
def test_numbers_stay_numbers(number: object) -> None:
    assert neutralise(number) == number


def test_csv_lines_neutralise_every_cell_including_the_header() -> None:
    text = "".join(csv_lines(["=Source", "Leads"], [["=cmd|' /C calc'!A0", 3], ["google", -1]]))

    assert list(csv.reader(io.StringIO(text))) == [
        ["'=Source", "Leads"],
        ["'=cmd|' /C calc'!A0", "3"],
        ["google", "-1"],
    ]


def test_spend_csv_rows_are_parsed() -> None:
    text = "month,source,campaign,amount,currency\n2026-03,google,brand-search,4200.00,eur\n2026-03-01,podcast,,1500,\n"

    rows, errors = parse_spend_csv(text, default_currency="EUR")

    assert errors == []
    assert [(r.month, r.source, r.campaign, r.amount, r.currency) for r in rows] == [
        (date(2026, 3, 1), "google", "brand-search", Decimal("4200.00"), "EUR"),
        (date(2026, 3, 1), "podcast", "", Decimal("1500.00"), "EUR"),
    ]


def test_spend_csv_reports_every_bad_line_with_its_number() -> None:
    text = (
        "month,source,campaign,amount,currency\n"
        "2026-03-15,google,,100,EUR\n"
        "2026-03,,,100,EUR\n"
        "2026-03,google,,-5,EUR\n"
        "2026-03,google,,abc,EUR\n"
        "2026-03,google,,1.005,EUR\n"
        "2026-03,google,,10,EURO\n"
        "2026-04,google,,10,EUR\n"
        "2026-04,google,,20,EUR\n"
    )

    _, errors = parse_spend_csv(text, default_currency="EUR")

    assert [error.line for error in errors] == [2, 3, 4, 5, 6, 7, 9]
    assert str(errors[0]).startswith("Line 2: month '2026-03-15'")
    assert "line 8" in errors[-1].message


def test_spend_csv_needs_the_required_columns() -> None:
    _, errors = parse_spend_csv("month,campaign\n2026-03,x\n", default_currency="EUR")

    assert errors == [LineError(1, "the header must name the columns month, source, campaign, amount, currency; "
                                   "missing amount, source")]  # fmt: skip


def test_spend_csv_accepts_an_excel_byte_order_mark() -> None:
    rows, errors = parse_spend_csv("\ufeffmonth,source,amount\n2026-03,google,10\n", default_currency="EUR")

    assert (len(rows), errors) == (1, [])
