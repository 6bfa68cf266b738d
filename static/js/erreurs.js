// When an htmx request fails, say so in the page instead of doing nothing.
(function () {
  "use strict";
  function zone() { return document.getElementById("erreur-htmx"); }
  function afficher(texte) {
    var z = zone();
    if (!z) return;
    z.innerHTML = "";
    var p = document.createElement("p");
    p.className = "alerte";
    p.textContent = texte;
    z.appendChild(p);
    // On a phone it sat above the screen while the old results stayed in
    // view: bring it into sight.
    var haut = z.getBoundingClientRect().top;
    if (haut < 0 || haut > window.innerHeight - 40) {
      z.scrollIntoView({ block: "center" });
    }
  }
  document.addEventListener("htmx:beforeRequest", function () {
    var z = zone();
    if (z) z.innerHTML = "";
  });
  document.addEventListener("htmx:responseError", function (e) {
    var statut = e.detail.xhr ? e.detail.xhr.status : 0;
    afficher(statut === 404
      ? "Cette page n'existe plus. Rechargez la page pour repartir de zéro."
      : "Le site a un problème (erreur " + statut + "). Réessayez dans quelques minutes, ou appuyez sur « Rechercher ».");
  });
  document.addEventListener("htmx:sendError", function () {
    afficher("Pas de connexion internet pour le moment. Vérifiez votre connexion, puis réessayez.");
  });
})();
