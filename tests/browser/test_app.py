"""The app in a real browser: sign in, see the home page, submit a form (desktop and phone)."""
from __future__ import annotations

from .conftest import PHONE_VIEWPORT, sign_in as _sign_in


def test_worker_signs_in_and_saves_an_aid_draft(live, page):
    _sign_in(page, live, "worker1")
    page.wait_for_selector("text=张建国")
    assert "工会事务办理" in page.title() or "Union casework" in page.title()
    page.goto(live + "/cases/aid/new")
    page.check("input[name=category][value=hardship]")  # step one: the category, then its questions
    page.click("form.step button[type=submit]")
    page.fill("input[name=amount_requested]", "3000.00")
    page.fill("textarea[name=circumstances]", "爱人重病住院，家庭收入微薄")
    page.click("form.form button[type=submit]")
    page.wait_for_selector("h1 >> text=A20")
    assert "3000.00" in page.content()


def test_bad_amount_shows_a_message_and_keeps_the_text(live, page):
    _sign_in(page, live, "worker1")
    page.goto(live + "/cases/aid/new?category=hardship")
    page.fill("input[name=amount_requested]", "12.345")
    page.fill("textarea[name=circumstances]", "保留这段文字")
    page.click("form.form button[type=submit]")
    page.wait_for_selector(".error")
    assert page.input_value("textarea[name=circumstances]") == "保留这段文字"


def test_home_fits_a_phone_screen(live, chromium):
    context = chromium.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN")
    page = context.new_page()
    try:
        _sign_in(page, live, "staff1")
        page.wait_for_selector("text=刘芳")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_VIEWPORT["width"] + 1
    finally:
        context.close()


def test_pages_with_script_and_charts_work_under_the_content_security_policy(live, page):
    """The page fixture fails the test on any CSP refusal; here the scripted bits must also still work."""
    _sign_in(page, live, "admin")
    page.goto(live + "/stats")
    assert page.locator("svg.chart").count() >= 1 or page.locator("table").count() >= 1
    page.goto(live + "/admin/settings")
    options = page.locator("select[data-autosubmit] option").all()
    if len(options) > 1:
        value = options[1].get_attribute("value")
        with page.expect_navigation():
            page.select_option("select[data-autosubmit]", value)
        assert f"unit={value}" in page.url
    page.goto(live + "/cases/aid/new")
    page.check("input[name=category][value=education]")
    page.click("form.step button[type=submit]")  # a plain GET step: no script needed, none refused
    assert "category=education" in page.url
    assert page.locator("input[name=school]").count() == 1 and page.locator("input[name=diagnosis]").count() == 0
