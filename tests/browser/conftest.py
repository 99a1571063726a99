"""Generic fixtures for browser tests: Playwright driving Debian's /usr/bin/chromium.

Everything under tests/browser is marked ``browser`` automatically (`pytest -m browser` runs them,
`-m "not browser"` leaves them out).

- ``serve(app)``: context manager that serves a WSGI app on 127.0.0.1 and yields its base URL::

      from .conftest import serve

      def test_home(app, page):
          with serve(app) as base_url:
              page.goto(base_url + "/")

- ``chromium``: one headless browser for the session. Skips when /usr/bin/chromium is missing,
  except under CI (CI=true), where that is a failure.
- ``page``: a fresh context (locale zh-CN, 1280x900) and page per test; on failure a screenshot
  goes to /tmp/casework-browser-failures/<test name>.png. Override ``browser_context_args`` in a
  module for other settings, e.g. ``{**browser_context_args, "viewport": PHONE_VIEWPORT}``.

- axe-core (``make axe``: node_modules/axe-core, pinned in package-lock.json) checks the pages a browser
  test visits, in every context the test opens: each page ``goto`` opens, each page a click, a key or a form
  navigates to (checked at the test's next call on the page or its locators, once it has loaded), and the
  pages still open when the test body ends. A page is checked again when its text has changed (the same case
  page in its next state). Any critical or serious violation fails the test, naming the rule, the element and
  the page. Pages of the test's own throwaway apps are checked the same way.

pytest-playwright is not a dependency; these fixtures stand on the plain ``playwright`` package.
Never run ``playwright install``: it downloads browsers, and the system chromium is used instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FAILURE_DIR = Path("/tmp/casework-browser-failures")
DEFAULT_VIEWPORT = {"width": 1280, "height": 900}
PHONE_VIEWPORT = {"width": 375, "height": 812}

_HERE = Path(__file__).resolve().parent
AXE_JS = _HERE.parents[1] / "node_modules" / "axe-core" / "axe.min.js"


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _skip_or_fail(reason: str) -> None:
    """Skip locally; under CI a missing browser must not pass quietly."""
    if _under_ci():
        pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


# --- serving a WSGI app ----------------------------------------------------------------------------


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """Serve the WSGI ``app`` on a free port of 127.0.0.1 in a daemon thread; yield its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- marking and reports ---------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)  # before -m deselects anything
def pytest_collection_modifyitems(config, items):
    # Hooks in a conftest see every collected item, not only this folder's.
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    # After a passing test body, axe looks at the pages still open; the test fails on what it found anywhere.
    result = yield
    audit = _current_audit
    if audit is not None and _HERE in Path(item.path).resolve().parents:
        audit.check_open_pages()
        if audit.violations:
            pytest.fail(audit.report(), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item, so fixtures can tell at teardown whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- browser fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    """A headless /usr/bin/chromium launched through Playwright, shared by the session."""
    if not CHROMIUM.exists():
        _skip_or_fail(f"{CHROMIUM} is missing (Debian package chromium; run scripts/install-system.sh)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _skip_or_fail(f"playwright is not importable ({exc}); install the test extra")

    args = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ]
    if os.geteuid() == 0:
        args.insert(0, "--no-sandbox")  # chromium refuses to start as root with its sandbox

    if not AXE_JS.exists():
        _skip_or_fail(f"{AXE_JS} is missing (run `make axe`: npm installs the pinned axe-core)")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        new_context = browser.new_context

        def audited_context(*a, **kw):
            context = new_context(*a, **kw)
            if _current_audit is not None:
                _current_audit.watch(context)
            return context

        browser.new_context = audited_context  # contexts a test opens itself are checked too
        _audit_locator_actions()
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_context_args() -> dict:
    """Keyword arguments for ``browser.new_context``; override in a test module to change them."""
    return {"locale": "zh-CN", "viewport": dict(DEFAULT_VIEWPORT)}


@pytest.fixture
def page(request, chromium, browser_context_args):
    """A fresh page in a fresh context; screenshot to FAILURE_DIR when the test fails."""
    context = chromium.new_context(**browser_context_args)
    try:
        page = context.new_page()
        # Anything the Content-Security-Policy refused (an inline script, style or handler) fails the test.
        refused = []
        page.on("console", lambda msg: refused.append(msg.text)
                if msg.type == "error" and "Content Security Policy" in msg.text else None)
        yield page
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            _save_failure_screenshot(page, request.node.name)
        elif report is not None:
            assert not refused, refused
    finally:
        context.close()


# --- axe-core on every page ---------------------------------------------------------------------------

# Rules tagged for WCAG 2.1 A/AA plus axe's best practices; only critical and serious findings fail.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "critical" || v.impact === "serious").map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200),
                                            summary: n.failureSummary}))}));
}"""


# What a page's state is told by: its headings and the text of its main part, hashed in the page.
PAGE_STATE = """() => {
  const main = document.querySelector("main") || document.body;
  const text = (document.title + "|" + (main ? main.innerText : "")).replace(/\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}/g, "");
  let h = 0;
  for (let i = 0; i < text.length; i++) { h = (h * 31 + text.charCodeAt(i)) | 0; }
  return h;
}"""

# Calls that can navigate (or follow a navigation) on a page or a locator: after each, a moved page is checked.
PAGE_ACTIONS = ("click", "dblclick", "press", "check", "uncheck", "select_option", "set_checked", "tap",
                "dispatch_event", "fill", "set_input_files", "wait_for_url", "wait_for_load_state", "go_back",
                "go_forward", "reload")
LOCATOR_ACTIONS = ("click", "dblclick", "press", "check", "uncheck", "select_option", "set_checked", "tap",
                   "dispatch_event", "fill", "press_sequentially", "set_input_files")


def _audit_locator_actions() -> None:
    """Locator actions (page.locator(...).click(), get_by_role(...).click()) settle their page as page calls do."""
    from playwright.sync_api import Locator
    for name in LOCATOR_ACTIONS:
        method = getattr(Locator, name)
        if getattr(method, "_axe_settles", False):
            continue

        def settled(self, *a, _method=method, **kw):
            audit = _current_audit
            if audit is not None:
                audit.settle(self.page)
            result = _method(self, *a, **kw)
            if audit is not None:
                audit.settle(self.page)
            return result

        settled._axe_settles = True
        setattr(Locator, name, settled)


class AxeAudit:
    """Runs axe-core on each page before a navigation replaces it, and on the pages left open at the end."""

    def __init__(self) -> None:
        self.violations: list[tuple[str, dict]] = []
        self.checked: list[str] = []
        self._contexts: list = []
        self._final: set[str] = set()
        self._seen_states: set[str] = set()
        self._moved: set = set()   # pages whose main frame navigated since their last check
        self._settling_now = False
        self._source = AXE_JS.read_text(encoding="utf-8")

    def watch(self, context) -> None:
        # Checks run from the test's own calls: Playwright's sync API cannot wait inside its event handlers.
        self._contexts.append(context)
        new_page, close = context.new_page, context.close

        def audited_page(*a, **kw):
            page = new_page(*a, **kw)
            goto = page.goto

            def checked_goto(url, *ga, **gkw):
                self.settle(page)
                self.check(page)  # the page being left, however the test reached it
                response = goto(url, *ga, **gkw)
                self.check(page)
                return response

            page.goto = checked_goto
            # Handlers only note that the main frame moved: the check runs from the test's next call.
            page.on("framenavigated", lambda frame: self._moved.add(page) if frame.parent_frame is None else None)
            for name in PAGE_ACTIONS:
                setattr(page, name, self._settling(page, getattr(page, name)))
            expect_navigation = page.expect_navigation

            @contextlib.contextmanager
            def checked_expect_navigation(*ea, **ekw):
                self.settle(page)
                with expect_navigation(*ea, **ekw) as info:
                    yield info
                self.settle(page)

            page.expect_navigation = checked_expect_navigation
            return page

        def checked_close(*a, **kw):  # a test that closes its own context: its last pages count too
            try:
                self._check_pages_of(context)
            except Exception as exc:
                print(f"\naxe: could not check the pages of a closing context: {exc}", file=sys.stderr)
            return close(*a, **kw)

        context.new_page, context.close = audited_page, checked_close

    def _settling(self, page, method):
        def settled(*a, **kw):
            self.settle(page)  # a page a click left it on, before acting on it
            result = method(*a, **kw)
            self.settle(page)
            return result
        return settled

    def settle(self, page) -> None:
        """Check `page` if its main frame navigated since it was last checked, once the new page has loaded."""
        if page not in self._moved or self._settling_now or page.is_closed():
            return
        self._settling_now = True
        try:
            self._moved.discard(page)
            try:
                page.wait_for_load_state("load", timeout=15_000)
            except Exception as exc:  # a page that never loads is the test's own failure to report
                print(f"\naxe: {page.url} did not finish loading: {exc}", file=sys.stderr)
                return
            self.check(page)
        finally:
            self._settling_now = False

    def check(self, page) -> None:
        url = page.url
        if not url.startswith("http"):
            return
        # The same address in another state (a case after a step) is another page to check.
        state = url + "#" + str(page.evaluate(PAGE_STATE))
        if state in self._seen_states:
            return
        self._seen_states.add(state)
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self._source)  # evaluated through the debugger: the page's CSP does not apply
        for violation in page.evaluate(AXE_RUN):
            self.violations.append((url, violation))
        self.checked.append(url)

    def _check_pages_of(self, context) -> None:
        for page in list(context.pages):
            self.settle(page)
            if not page.is_closed() and page.url not in self._final:
                self._final.add(page.url)
                self.check(page)

    def check_open_pages(self) -> None:
        for context in self._contexts:
            try:
                self._check_pages_of(context)
            except Exception as exc:  # a context the test closed already has no pages left to see
                if "closed" not in str(exc):
                    raise

    def report(self) -> str:
        lines = [f"axe-core: {len(self.violations)} critical or serious violation(s):"]
        for url, v in self.violations:
            lines.append(f"- [{v['impact']}] {v['id']} ({v['help']}) on {url}")
            for node in v["nodes"]:
                lines.append(f"    {node['target']}: {node['html']}")
                lines.append("      " + node["summary"].replace("\n", "\n      "))
        return "\n".join(lines)


_current_audit: AxeAudit | None = None


@pytest.fixture(autouse=True)
def axe_audit(request):
    """Every browser test's contexts are watched by axe; the verdict is given after the test body."""
    global _current_audit
    if not AXE_JS.exists():
        yield None
        return
    _current_audit = AxeAudit()
    try:
        yield _current_audit
    finally:
        _current_audit = None


def _save_failure_screenshot(page, test_name: str) -> None:
    name = re.sub(r"[^\w.\-\[\]]+", "_", test_name)[:150]
    path = FAILURE_DIR / f"{name}.png"
    try:
        FAILURE_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
    except Exception as exc:  # a failed screenshot must not hide the test's own failure
        print(f"\ncould not save a screenshot of the failed test to {path}: {exc}", file=sys.stderr)
    else:
        print(f"\nscreenshot of the failed test: {path}", file=sys.stderr)


# --- the casework app in the browser -----------------------------------------------------------------


@pytest.fixture()
def live(app, demo):
    """The test app with the demo union, served on 127.0.0.1; yields its base URL."""
    with serve(app) as base_url:
        yield base_url


def sign_in(page, base_url: str, username: str) -> None:
    """Sign out whoever was signed in, sign in as `username` (demo password)."""
    page.context.clear_cookies()
    page.goto(base_url + "/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", "demo-password")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")


def issue_slip(page, base_url: str, case_id: int, remark: str, colour: str = "red") -> str:
    """Union staff (staff1) issue a supervision slip from the motion's page; answers the slip's number."""
    sign_in(page, base_url, "staff1")
    page.goto(f"{base_url}/cases/motion/{case_id}")
    form = "form[action$='/slips']"
    page.click(f"details:has({form}) > summary")
    page.select_option(f"{form} select[name=colour]", value=colour)
    page.fill(f"{form} textarea[name=remark]", remark)
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")
    assert page.locator(".flash.success").count()
    number = page.locator(f"li.slip-{colour} a").first.inner_text()
    assert number.startswith("工督〔")
    return number


def answer_slip(page, base_url: str, number: str, answer: str, check=None) -> None:
    """The department (handler1) opens slip `number` from the top of its work and answers it; `check(step)`,
    when given, looks at the page on the way ("work", then "filled" with the answer typed in)."""
    from sqlalchemy import select

    from casework.extensions import db
    from casework.supervision.models import Slip
    sign_in(page, base_url, "handler1")
    page.goto(base_url + "/work")
    link = page.locator(f".supervision-queue a:has-text('{number}')")
    assert link.is_visible()
    (check or (lambda step: None))("work")
    with page.expect_navigation():
        link.click()
    page.fill("form[action$='/answer'] textarea[name=answer]", answer)
    (check or (lambda step: None))("filled")
    with page.expect_navigation():
        page.click("form[action$='/answer'] button[type=submit]")
    assert page.locator(".flash.success").count()
    assert answer[:8] in page.inner_text("dd.answer")
    try:
        assert db.session.scalar(select(Slip.status).where(Slip.number == number)) == "answered"
    finally:
        db.session.rollback()


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def apply_for_hardship(page, live: str, proof) -> str:
    """The signed-in worker fills in a 困难帮扶 request (category, questions, consent) and attaches the income
    proof `proof` (a path); gives the case page's address. The request is still a draft."""
    page.goto(live + "/cases/aid/new")
    page.check("input[name=category][value=hardship]")  # step one shows the cap and the documents
    assert "收入证明" in page.content()
    page.click("form.step button[type=submit]")
    page.fill("input[name=amount_requested]", "3000.00")
    page.fill("textarea[name=circumstances]", "爱人重病住院，两个孩子上学，家庭收入微薄")
    page.fill("input[name=household_size]", "4")
    page.fill("input[name=monthly_income]", "2100.00")
    page.fill("textarea[name=cause]", "爱人患病，子女上学")
    page.check("input[name=consent_agree]")  # the separate consent shown above the questions
    page.click("form.form button[type=submit]")
    page.wait_for_selector("h1 >> text=A20")
    case_url = page.url
    page.select_option("select[name=doc_type]", "income_proof")
    page.set_input_files("input[name=file]", str(proof))
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    page.wait_for_selector("text=收入证明.pdf")
    return case_url


def act(page, trigger: str, fields: dict | None = None, selects: dict | None = None,
        choose: dict | None = None) -> None:
    """Open the case page's form for `trigger`, fill it (`selects` by label, `choose` by value), send it,
    and check the page that follows refused nothing."""
    form = f'form[action$="/do/{trigger}"]'
    details = f"details:has({form})"
    if page.get_attribute(details, "open") is None:
        page.click(f"{details} > summary")
    for name, value in (fields or {}).items():
        page.fill(f'{form} [name="{trigger}-{name}"]', value)
    for name, label in (selects or {}).items():
        page.select_option(f'{form} select[name="{trigger}-{name}"]', label=label)
    for name, value in (choose or {}).items():
        page.select_option(f'{form} select[name="{trigger}-{name}"]', value=value)
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")
    refusals = page.locator(".flash.error, .form-error, small.error").all_inner_texts()
    assert not refusals, (trigger, refusals)
