"""Reading an uploaded roster (XLSX or CSV) into header + raw rows. A file that cannot be read is refused
with one clear message (never a traceback): 422 for the wrong kind of file, 400 for a broken one."""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from ..core.errors import BadRequest, Invalid

# Field -> accepted header texts (Chinese first: the roster's own headers, API.md "Roster").
COLUMNS = {
    "name": ("姓名", "name"),
    "employee_no": ("工号", "员工编号", "employee_no"),
    "phone": ("手机", "手机号", "手机号码", "phone"),
    "unit": ("单位", "所在单位", "unit"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "id_number"),
    "roles": ("角色", "roles"),
}
REQUIRED = ("name", "employee_no", "unit")
HEADER_ZH = {field: names[0] for field, names in COLUMNS.items()}
MAX_ROWS = 50000
MAX_UNZIPPED = 200 * 1024 * 1024  # a zip bomb stops here, before openpyxl inflates it


@dataclass
class Table:
    headers: list[str]           # as written in the file
    columns: dict[str, int]      # field -> column index
    rows: list[tuple[int, list]]  # (1-based data row, raw cell values); blank rows left out


def read(data: bytes, filename: str = "") -> Table:
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04":
        grid = _xlsx(data)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise Invalid("这是旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 或 .csv 后再上传。",
                      code="unsupported_file")
    elif name.endswith(".xlsx"):
        raise BadRequest("文件已损坏，无法作为 .xlsx 读取。请重新导出后再上传。", code="broken_file")
    elif name.endswith((".csv", ".txt")) or (not name and _looks_like_text(data)):
        grid = _csv(data)
    else:
        raise Invalid("只接受 .xlsx 或 .csv 格式的花名册。", code="unsupported_file")
    return _table(grid)


def _looks_like_text(data: bytes) -> bool:
    return b"\x00" not in data[:4096]


def _xlsx(data: bytes):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_UNZIPPED:
                raise Invalid("文件解压后过大，请拆分后再上传。", code="too_large_file")
        from openpyxl import load_workbook
        # read_only streams the sheet; data_only=False keeps formulas as text ("=HYPERLINK(...)")
        # so they are refused instead of their cached values slipping through.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = book.worksheets[0]
        grid = []
        for values in sheet.iter_rows(values_only=True):
            grid.append(list(values))
            if len(grid) > MAX_ROWS + 20:
                break
        book.close()
        return grid
    except Invalid:
        raise
    except Exception:  # noqa: BLE001  zipfile, XML and openpyxl all have their own errors
        raise BadRequest("文件已损坏或不是有效的 .xlsx 文件，无法读取。请用 Excel 重新保存后再上传。",
                         code="broken_file") from None


def _csv(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BadRequest("CSV 文件的编码无法识别，请另存为 UTF-8 编码的 CSV。", code="broken_file")
    if "\x00" in text:
        raise BadRequest("文件不是文本格式的 CSV，无法读取。", code="broken_file")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error:
        raise BadRequest("CSV 文件格式有误，无法读取。", code="broken_file") from None


def text_of(value) -> str:
    """A cell as the text a person sees in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\u3000", " ").strip()


def _table(grid: list[list]) -> Table:
    for index, raw in enumerate(grid[:10]):
        cells = [text_of(v) for v in raw]
        columns = {}
        for col, text in enumerate(cells):
            for field, names in COLUMNS.items():
                if text in names or text.lower() in names:
                    columns.setdefault(field, col)
        if "name" in columns or "employee_no" in columns:
            break
    else:
        raise Invalid("找不到表头行：第一行应包含 姓名、工号、手机、单位、身份证号、角色 等列名。",
                      code="no_header")
    missing = [HEADER_ZH[f] for f in REQUIRED if f not in columns]
    if missing:
        raise Invalid(f"缺少必需的列：{'、'.join(missing)}。", code="missing_columns")
    headers = cells
    width = max(columns.values()) + 1
    rows = []
    for number, raw in enumerate(grid[index + 1:], start=1):
        raw = list(raw) + [None] * (len(headers) - len(raw))
        if all(text_of(v) == "" for v in raw):
            continue
        rows.append((number, raw[:max(width, len(headers))]))
    if len(rows) > MAX_ROWS:
        raise Invalid(f"文件超过 {MAX_ROWS} 行，请分批导入。", code="too_many_rows")
    if not rows:
        raise Invalid("文件里没有数据行。", code="empty_file")
    return Table(headers=headers, columns=columns, rows=rows)
