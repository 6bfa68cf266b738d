// After each search swapped in by htmx:
// 1. Back and forward restore a snapshot of the page: write the fields'
//    current values into their attributes, so the snapshot shows the words
//    and filters that go with the results it holds.
// 2. A link that replaced the whole list (next page, removing a filter) took
//    the focus away with it: give it to the results heading, as a new page
//    would. Typing in the form keeps its focus.
document.addEventListener("htmx:afterSettle", function (e) {
  "use strict";
  if (!e.detail.target || e.detail.target.id !== "resultats") return;
  var form = document.getElementById("formulaire-recherche");
  if (form) {
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
  }
  var source = e.detail.requestConfig && e.detail.requestConfig.elt;
  var titre = document.getElementById("titre-resultats");
  if (titre && source && source.hasAttribute("data-focus-resultats")) {
    titre.focus();
  }
});
