"""Everything under tests/deploy is marked ``deploy``: the multi-process layout, run as its own phase of
scripts/test-all.sh (`pytest -m deploy`) after PostgreSQL; the other phases leave it out (`-m "not deploy"`)."""
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    # Hooks in a conftest see every collected item, not only this folder's.
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.deploy)
