"""Phone screenshots for the README: each role's main page at 390x844 in headless Chromium.

Usage, against a server with the demo union and its history (`make run`, or `flask casework demo`):
    .venv/bin/python scripts/phone-screenshots.py http://127.0.0.1:5000 docs/
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

PHONE = {"width": 390, "height": 844}


def sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", "demo-password")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")


def first_case(page, base: str, listing: str, *states: str) -> str:
    """The address of the first case on `listing` whose row shows one of `states` (Chinese state labels),
    trying them in order."""
    page.goto(base + listing)
    for state in states:
        links = page.locator("tr", has_text=state).locator("a[href*='/cases/']")
        if links.count():
            return base + links.first.get_attribute("href")
    raise SystemExit(f"no case in {states} on {listing}")


def shoot(page, path: Path) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=False)
    print(path)


def main(base: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    args = ["--disable-gpu", "--no-first-run"] + (["--no-sandbox"] if os.geteuid() == 0 else [])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
        page = browser.new_context(locale="zh-CN", viewport=PHONE, device_scale_factor=2).new_page()

        sign_in(page, base, "worker1")  # the worker: their request, what happens next
        page.goto(first_case(page, base, "/cases?kind=aid", "核实中", "待审批", "已提交", "公示中"))
        shoot(page, out / "phone-worker-case.png")

        sign_in(page, base, "staff1")  # union staff: the work queue
        page.goto(base + "/work")
        shoot(page, out / "phone-staff-work.png")

        sign_in(page, base, "committee1")  # the committee: a request awaiting its vote
        page.goto(first_case(page, base, "/work", "待审批"))
        page.locator("details.action > summary").first.click()
        page.locator("section.next-step").scroll_into_view_if_needed()
        page.locator("details.action").first.scroll_into_view_if_needed()
        shoot(page, out / "phone-committee-vote.png")

        page.context.clear_cookies()  # the public board, signed out
        page.goto(base + "/board")
        shoot(page, out / "phone-board.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), Path(sys.argv[2]))
