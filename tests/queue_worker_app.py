"""The app a test worker runs (`flask --app tests.queue_worker_app casework worker`): the service as wsgi builds
it, except that the second chunk of notices it renders never finishes, so that test_tasks_redis kills it at a
known point mid-job, after it stored the first chunk."""
import threading

from casework.notices import batch
from wsgi import app  # noqa: F401  (what flask --app loads)

_render = batch.render_chunk
_rendered = []


def _render_then_hang(pages):
    if _rendered:
        threading.Event().wait()  # held here until the test sends SIGKILL
    _rendered.append(len(pages))
    return _render(pages)


batch.render_chunk = _render_then_hang
