// Back and forward restore a snapshot of the page: write the fields' current
// values into their attributes after each search, so the snapshot shows the
// words and filters that go with the results it holds.
document.addEventListener("htmx:afterSettle", function (e) {
  "use strict";
  if (!e.detail.target || e.detail.target.id !== "resultats") return;
  var form = document.getElementById("formulaire-recherche");
  if (!form) return;
  form.querySelectorAll("input, select").forEach(function (champ) {
    if (champ.type === "checkbox") {
      champ.toggleAttribute("checked", champ.checked);
    } else if (champ.tagName === "SELECT") {
      champ.querySelectorAll("option").forEach(function (o) {
        o.toggleAttribute("selected", o.selected);
      });
    } else if (champ.type !== "hidden") {
      champ.setAttribute("value", champ.value);
    }
  });
});
