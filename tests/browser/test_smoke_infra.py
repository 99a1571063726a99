"""Proves the browser test set-up itself: chromium starts, CJK text renders, the fixtures work.

It serves a throwaway Flask app (not casework's) so that it fails only for infrastructure reasons.
"""

from flask import Flask, render_template_string, request
from playwright.sync_api import expect

from .conftest import serve

PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>冒烟测试</title></head>
<body>
  {% if name %}
    <p id="greeting">你好, {{ name }}</p>
  {% else %}
    <form method="post" action="/">
      <label for="name">姓名</label>
      <input id="name" name="name" required>
      <button type="submit">提交</button>
    </form>
  {% endif %}
</body>
</html>
"""


def make_app() -> Flask:
    app = Flask(__name__)

    @app.route("/", methods=["GET", "POST"])
    def greet():
        return render_template_string(PAGE, name=request.form.get("name"))

    return app


def rendering_fonts(page, selector: str) -> dict[str, int]:
    """Font families chromium actually used to draw the node's text, with their glyph counts."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    return {font["familyName"]: font["glyphCount"] for font in fonts}


def test_form_round_trip_in_chromium(page):
    with serve(make_app()) as base_url:
        page.goto(base_url + "/")
        page.get_by_label("姓名").fill("张三")
        page.get_by_role("button", name="提交").click()

        greeting = page.locator("#greeting")
        expect(greeting).to_have_text("你好, 张三")

        # The Han characters are drawn with a CJK font (fonts-noto-cjk), not as empty boxes.
        fonts = rendering_fonts(page, "#greeting")
        assert any("CJK" in family and glyphs > 0 for family, glyphs in fonts.items()), fonts


CLICKED = {
    "/": '<a href="/bad">下一页</a>',
    "/bad": '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><a href="/good">再下一页</a>',
    "/good": '<p id="end">完</p>',
}


def test_axe_checks_a_page_reached_only_by_clicks(page, axe_audit):
    """/bad is never a goto's target nor the page a goto leaves: only the check after the click sees it."""
    app = Flask(__name__)
    for path, body in CLICKED.items():
        app.add_url_rule(path, path, lambda body=body: "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                         f"<title>点击</title></head><body><main>{body}</main></body></html>")
    with serve(app) as base_url:
        page.goto(base_url + "/")
        page.click("text=下一页")
        page.get_by_role("link", name="再下一页").click()
        expect(page.locator("#end")).to_have_text("完")
    found = [(url, v["id"]) for url, v in axe_audit.violations]
    assert (base_url + "/bad", "image-alt") in found
    axe_audit.violations.clear()  # the violation was planted: the test itself passes
