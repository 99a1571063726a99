"""The one CSV/XLSX writer: files from a header and an iterator of rows, for every export and the roster.

Cells that a spreadsheet would run as a formula are neutralised with a leading apostrophe (OWASP CSV
injection). CSV starts with a BOM so that Excel reads UTF-8 Chinese; `text=True` writes every XLSX cell as
text, so an 18-digit ID number keeps its digits when someone edits the file.
"""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from urllib.parse import quote

from flask import Response, stream_with_context

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe(value):
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value  # numbers stay numbers: a negative amount is not a formula
    text = str(value)
    return "'" + text if text.startswith(DANGEROUS) else text


def escape_text(value) -> str:
    """A cell as text, neutralised like `safe`."""
    return str(safe("" if value is None else str(value)))


def csv_bytes(headers: list[str], rows) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([safe(h) for h in headers])
    writer.writerows([safe(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(sheet: str, headers: list[str], rows, *, text: bool = False) -> bytes:
    from openpyxl import Workbook  # ~0.15 s CPU to import: only when a spreadsheet is asked for
    from openpyxl.cell.cell import TYPE_STRING
    wb = Workbook(write_only=not text)
    ws = wb.create_sheet(sheet[:31]) if not text else wb.active
    if text:
        ws.title = sheet[:31]
        for r, values in enumerate([headers, *rows], start=1):
            for c, value in enumerate(values, start=1):
                cell = ws.cell(row=r, column=c)
                cell.value = escape_text(value)
                cell.data_type = TYPE_STRING  # never a formula, whatever the text
                cell.number_format = "@"
    else:
        ws.append([safe(h) for h in headers])
        for row in rows:
            ws.append([safe(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def disposition(filename: str) -> str:
    # RFC 5987: Chinese file names survive; the ASCII fallback keeps old clients working.
    return f"attachment; filename=\"export.{filename.rsplit('.', 1)[-1]}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, headers: list[str], rows) -> Response:
    def generate():
        buf = io.StringIO()
        out = csv.writer(buf)
        buf.write("\ufeff")  # Excel opens UTF-8 with a BOM as Chinese, not mojibake
        out.writerow(headers)
        for n, row in enumerate(rows, start=1):
            out.writerow([safe(v) for v in row])
            if n % 200 == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()
    return Response(stream_with_context(generate()), mimetype=CSV_TYPE,
                    headers={"Content-Disposition": disposition(filename)})


def xlsx_response(filename: str, sheet: str, headers: list[str], rows) -> Response:
    return Response(xlsx_bytes(sheet, headers, rows), headers={"Content-Disposition": disposition(filename)},
                    mimetype=XLSX_TYPE)


def respond(fmt: str, name: str, sheet: str, headers: list[str], rows) -> Response:
    if fmt == "csv":
        return csv_response(f"{name}.csv", headers, rows)
    return xlsx_response(f"{name}.xlsx", sheet, headers, rows)
