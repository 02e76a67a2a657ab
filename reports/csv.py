"""CSV in and out: exported report tables (safe to open in a spreadsheet) and the spend import's parser.

No ORM and no clock in here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """The cell as text a spreadsheet shows as-is: text that looks like a formula gets a leading quote.

    Numbers stay numbers (a negative amount is not a formula); everything else is compared as text.
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        text = str(value)
        return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text
    return value


class _Echo:
    """A file-like object whose ``write`` returns the line, so ``csv.writer`` can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The CSV text of a table, line by line, every cell neutralised."""
    writer = csv.writer(_Echo())
    yield writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


# --- Spend import ---------------------------------------------------------------------------------

SPEND_COLUMNS = ("month", "source", "campaign", "amount", "currency")
REQUIRED_SPEND_COLUMNS = frozenset({"month", "source", "amount"})
MAX_NAME_LENGTH = 200  # Spend.source and Spend.campaign


@dataclass(frozen=True)
class SpendRow:
    line: int
    month: date
    source: str
    campaign: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}"


def parse_spend_csv(text: str, *, default_currency: str) -> tuple[list[SpendRow], list[LineError]]:
    """Rows of a spend CSV (month,source,campaign,amount,currency) and an error for each bad line.

    ``month`` is ``2026-03`` or ``2026-03-01``; ``campaign`` and ``currency`` may be left out.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {(name or "").strip().lower() for name in reader.fieldnames or []}
    missing = sorted(REQUIRED_SPEND_COLUMNS - header)
    if missing:
        return [], [
            LineError(1, f"the header must name the columns {', '.join(SPEND_COLUMNS)}; missing {', '.join(missing)}")
        ]
    rows: list[SpendRow] = []
    errors: list[LineError] = []
    seen: dict[tuple[str, str, date], int] = {}
    for line, raw in enumerate(reader, start=2):
        values = {(key or "").strip().lower(): (value or "").strip() for key, value in raw.items() if key}
        if not any(values.values()):
            continue
        try:
            row = _spend_row(line, values, default_currency=default_currency)
        except ValueError as error:
            errors.append(LineError(line, str(error)))
            continue
        key = (row.source, row.campaign, row.month)
        if key in seen:
            errors.append(LineError(line, f"the same source, campaign and month as line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(row)
    return rows, errors


def _spend_row(line: int, values: dict[str, str], *, default_currency: str) -> SpendRow:
    source = values.get("source", "")
    campaign = values.get("campaign", "")
    if not source:
        raise ValueError("the source is empty")
    if len(source) > MAX_NAME_LENGTH or len(campaign) > MAX_NAME_LENGTH:
        raise ValueError(f"source and campaign may have at most {MAX_NAME_LENGTH} characters")
    return SpendRow(
        line=line,
        month=_parse_month(values.get("month", "")),
        source=source,
        campaign=campaign,
        amount=_parse_amount(values.get("amount", "")),
        currency=_parse_currency(values.get("currency", ""), default=default_currency),
    )


def _parse_month(text: str) -> date:
    parts = text.split("-")
    try:
        if len(parts) == 2:
            return date(int(parts[0]), int(parts[1]), 1)
        if len(parts) == 3:
            day = date(int(parts[0]), int(parts[1]), int(parts[2]))
            if day.day == 1:
                return day
    except ValueError:
        pass
    raise ValueError(f"month {text!r} is not a month like 2026-03 (or its first day, 2026-03-01)")


def _parse_amount(text: str) -> Decimal:
    try:
        amount = Decimal(text.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        raise ValueError(f"amount {text!r} is not a number like 1250.00") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"amount {text!r} must be zero or more")
    if amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1e10"):
        raise ValueError(f"amount {text!r} must have at most two decimals and ten digits before the point")
    return amount.quantize(Decimal("0.01"))


def _parse_currency(text: str, *, default: str) -> str:
    currency = text.upper() or default
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise ValueError(f"currency {text!r} is not a three-letter code like EUR")
    return currency
