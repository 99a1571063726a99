"""Clearing values out of hash-chained entries (PIPL art. 47) while the chain still verifies.

An entry's hash covers its values, so a cleared value would break it. Before clearing, the entry's *seal* is
taken: the SHA-256 of its payload with every string replaced by that string's own SHA-256. A cleared string is
stored as a marker holding that digest, so the seal of the cleared entry equals the seal of the original. The
step that clears records (seq, hash, seal) of each cleared entry in its own hashed entry, later in the chain;
verifying accepts an entry whose stored hash no longer matches its content only when the chain records its
seal and the seal still matches. Nothing but cleared strings can change: numbers, states, times, the order
and the links stay covered."""
from __future__ import annotations

import hashlib
import json
import re

PREFIX, SUFFIX = "⟦cleared:", "⟧"
_MARK = re.compile(r"^⟦cleared:([0-9a-f]{64})⟧$")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest_of(value: str) -> str:
    """The digest a string is sealed by: a marker's own, else the string's SHA-256."""
    found = _MARK.match(value)
    return found.group(1) if found else _digest(value)


def is_cleared(value) -> bool:
    return isinstance(value, str) and bool(_MARK.match(value))


def clear(value):
    """`value` with every string replaced by its marker (strings already cleared stay as they are)."""
    if isinstance(value, str):
        return value if not value or is_cleared(value) else f"{PREFIX}{digest_of(value)}{SUFFIX}"
    if isinstance(value, dict):
        return {k: clear(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clear(v) for v in value]
    return value


def _sealed(value):
    if isinstance(value, str):
        return "#" + digest_of(value)
    if isinstance(value, dict):
        return {k: _sealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sealed(v) for v in value]
    return value


def seal(payload: dict) -> str:
    blob = json.dumps(_sealed(payload), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def shown(value: str | None, placeholder: str = "—") -> str:
    """A value for display: a cleared one as the placeholder."""
    return placeholder if is_cleared(value) else (value or "")


def seals_recorded(changes_list, key: str) -> dict[int, tuple[str, str, int]]:
    """seq -> (hash, seal, recorded at seq) from the `cleared` records of a chain's entries (their `changes`
    in order with their seq): `key` is "audit" for the chain itself, "reads" for the case's reads log."""
    out: dict[int, tuple[str, str, int]] = {}
    for at_seq, changes in changes_list:
        record = (changes or {}).get("cleared") if isinstance(changes, dict) else None
        if not isinstance(record, dict):
            continue
        for item in record.get(key) or ():
            if isinstance(item, list) and len(item) == 3:
                out[int(item[0])] = (item[1], item[2], at_seq)
    return out


def verifies(entry, computed: str, recorded: dict[int, tuple[str, str, int]]) -> bool:
    """Whether `entry` (with `payload()`, `seq`, `hash`) holds: its hash matches its content, or its content
    was cleared and a later entry of the chain recorded its hash and seal."""
    if computed == entry.hash:
        return True
    found = recorded.get(entry.seq)
    return found is not None and found[2] > entry.seq and found[0] == entry.hash and \
        found[1] == seal(entry.payload())
