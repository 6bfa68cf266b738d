// The fiche's print button: shown only when JavaScript can print. Before
// printing, open the folded parts so the paper keeps who to contact.
(function () {
  "use strict";
  var bouton = document.getElementById("imprimer");
  if (bouton) {
    bouton.hidden = false;
    bouton.addEventListener("click", function () { window.print(); });
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
})();
