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
