// Behaviour the templates ask for with data- attributes: no inline script (Content-Security-Policy).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  // A running roster import: poll its progress, reload when it has finished.
  var box = document.getElementById("progress");
  if (!box || !box.dataset.url) return;
  var bar = box.querySelector("progress");
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (p) {
      bar.max = p.total || 1; bar.value = p.done;
      box.querySelector("[data-done]").textContent = p.done; box.querySelector("[data-total]").textContent = p.total;
      if (p.status !== "running") { location.reload(); } else { setTimeout(poll, 1000); }
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
});

// While an author writes a proposal: earlier ones like it (public or their own), fetched as they pause typing.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("similar");
  if (!box || !box.dataset.url) return;
  var form = box.closest("form"), list = box.querySelector("ul"), none = box.querySelector("[data-none]");
  var alike = box.querySelector("template[data-alike]").innerHTML, timer = null, asked = "";
  function ask() {
    var data = new FormData();
    ["csrf_token", "title", "problem", "suggestion"].forEach(function (name) {
      var field = form.elements[name];
      data.append(name, field ? field.value : "");
    });
    var key = data.get("title") + "\n" + data.get("problem") + "\n" + data.get("suggestion");
    if (key === asked || !key.trim()) return;
    asked = key;
    fetch(box.dataset.url, {method: "POST", body: data, credentials: "same-origin"})
      .then(function (r) { return r.json(); }).then(function (body) {
        list.textContent = "";
        body.items.forEach(function (m) {
          var li = document.createElement("li"), a = document.createElement("a"), s = document.createElement("span");
          a.href = "/cases/proposal/" + m.id; a.textContent = m.number + " " + m.title;
          s.className = "muted"; s.textContent = " " + alike.replace("PERCENT", Math.round(m.similarity * 100));
          li.appendChild(a); li.appendChild(s); list.appendChild(li);
        });
        none.hidden = body.items.length > 0;
        box.hidden = body.items.length === 0;
      }).catch(function () { asked = ""; });
  }
  ["title", "problem", "suggestion"].forEach(function (name) {
    var field = form.elements[name];
    if (field) field.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 700); });
  });
});

// 大字: larger type and higher contrast for older workers, kept in a cookie so the server sets it on the next page.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.querySelector("button[data-large-type]");
  if (!button) return;
  button.addEventListener("click", function () {
    var on = document.documentElement.classList.toggle("large-type");
    button.setAttribute("aria-pressed", on ? "true" : "false");
    document.cookie = "large_type=" + (on ? "1" : "0") + "; path=/; max-age=31536000; SameSite=Lax";
  });
});
