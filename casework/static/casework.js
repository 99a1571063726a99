// Shows only the questions of the chosen aid category; without JavaScript every question shows.
document.addEventListener("DOMContentLoaded", function () {
  var select = document.querySelector("select[name=category]");
  if (!select) return;
  function update() {
    document.querySelectorAll("[data-category]").forEach(function (input) {
      var field = input.closest(".field");
      if (field) field.hidden = input.dataset.category !== select.value;
    });
  }
  select.addEventListener("change", update);
  update();
});
