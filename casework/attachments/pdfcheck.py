"""What an uploaded PDF must not carry: JavaScript, actions that run by themselves or start programs, embedded
files. Reviewers open attachments on office machines; a document is paper, never a program.

The file is read with pypdf (object streams decompressed, names decoded) and every object reachable from the
trailer is looked at; the names in its raw bytes are looked at too (all a file pypdf cannot read gets).
"""
from __future__ import annotations

import io
import logging
import re

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

log = logging.getLogger("casework.attachments")

JAVASCRIPT, AUTO_ACTION, LAUNCH, EMBEDDED = "javascript", "auto_action", "launch", "embedded_file"
# Actions that reach outside the document or run code; a plain GoTo (a page of the same file) is harmless.
RISKY_ACTIONS = {"/JavaScript": JAVASCRIPT, "/Launch": LAUNCH, "/SubmitForm": AUTO_ACTION,
                 "/ImportData": AUTO_ACTION, "/GoToR": LAUNCH, "/GoToE": EMBEDDED, "/Rendition": AUTO_ACTION,
                 "/URI": AUTO_ACTION, "/Sound": AUTO_ACTION, "/Movie": AUTO_ACTION, "/RichMediaExecute": JAVASCRIPT}
MAX_OBJECTS = 200_000  # far beyond any scan or letter; past it the file is refused as unreadable
RAW_MARKERS = {b"/javascript": JAVASCRIPT, b"/js": JAVASCRIPT, b"/launch": LAUNCH, b"/openaction": AUTO_ACTION,
               b"/aa": AUTO_ACTION, b"/embeddedfile": EMBEDDED, b"/embeddedfiles": EMBEDDED,
               b"/xfa": JAVASCRIPT, b"/richmedia": JAVASCRIPT, b"/fileattachment": EMBEDDED}
_RAW_NAME = re.compile(rb"/(?:[^\s/<>\[\]()%{}]|#[0-9A-Fa-f]{2})+")


class TooComplex(Exception):
    pass


def dangers(data: bytes) -> set[str]:
    """The kinds of active content found (empty: the file may be kept)."""
    try:
        trailer = PdfReader(io.BytesIO(data), strict=False).trailer
    except Exception:  # noqa: BLE001  pypdf raises many kinds on broken files
        return _raw(data)
    try:
        # The raw names as well: a viewer that repairs a broken file may see objects the parser left out.
        return _walk(trailer) | _raw(data, parsed=True)
    except TooComplex:
        return {AUTO_ACTION}
    except Exception:  # noqa: BLE001  a broken object deep inside: fall back to the bytes
        log.info("pdf check fell back to raw bytes", exc_info=True)
        return _raw(data)


def _walk(trailer) -> set[str]:
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack = [(trailer, None)]
    count = 0
    while stack:
        obj, key = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        count += 1
        if count > MAX_OBJECTS:
            raise TooComplex()
        if isinstance(obj, DictionaryObject):
            _look_at(obj, key, found)
            for k, v in obj.items():
                if k in ("/Parent", "/P"):  # back-links: the parent is reached from above anyway
                    continue
                stack.append((v, k))
        elif isinstance(obj, ArrayObject):
            stack.extend((v, key) for v in obj)
    return found


def _look_at(d: DictionaryObject, key, found: set[str]) -> None:
    keys = set(d.keys())
    action = d.get("/S")
    if isinstance(action, NameObject) and action in RISKY_ACTIONS:
        found.add(RISKY_ACTIONS[action])
    if "/JS" in keys or "/XFA" in keys:
        found.add(JAVASCRIPT)
    if key == "/Names" and "/JavaScript" in keys:
        found.add(JAVASCRIPT)
    if "/EmbeddedFiles" in keys or "/EF" in keys or d.get("/Type") == "/EmbeddedFile" \
            or d.get("/Subtype") in ("/FileAttachment", "/RichMedia"):
        found.add(EMBEDDED)
    if key == "/OpenAction" and "/S" in keys and action != "/GoTo":
        found.add(AUTO_ACTION)  # opening at a page is fine; anything else that runs on opening is not
    if "/AA" in keys:
        found.add(AUTO_ACTION)  # actions on opening, closing, printing, focusing a field: never needed here


def _raw(data: bytes, parsed: bool = False) -> set[str]:
    found = set()
    for match in _RAW_NAME.finditer(data):
        name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), match.group()).lower()
        if parsed and name == b"/openaction":
            continue  # the parse told what it does: opening at a page is fine
        if name in RAW_MARKERS:
            found.add(RAW_MARKERS[name])
    return found
