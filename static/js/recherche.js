// Search page behaviour on top of htmx.
// 1. Back and forward restore a snapshot of the page. htmx takes it from the
//    DOM just before the next search is swapped in (or before going back),
//    and a field's live value is not in the DOM: the snapshot would keep the
//    words of the page's first load, or of whatever was typed since. So, at
//    the moment of the snapshot, the fields' attributes are set from the URL
//    being saved, which is the search whose results the snapshot holds; the
//    live values are put back right after, so nothing the person is typing
//    changes under their fingers. (Writing them after each swap raced with a
//    quick back: the settle delay had not passed yet.)
// 2. A link that replaced the whole list (next page, removing a filter) took
//    the focus away with it: give it to the results heading, as a new page
//    would. Typing in the form keeps its focus.
(function () {
  "use strict";

  function champs(form) {
    return Array.prototype.filter.call(
      form.querySelectorAll("input, select"),
      function (champ) {
        return champ.name && champ.type !== "hidden";
      },
    );
  }

  function etatVivant(liste) {
    return liste.map(function (champ) {
      if (champ.type === "checkbox" || champ.type === "radio") return champ.checked;
      if (champ.tagName === "SELECT") {
        return Array.prototype.map.call(champ.options, function (o) {
          return o.selected;
        });
      }
      return champ.value;
    });
  }

  function remettre(liste, etat) {
    liste.forEach(function (champ, i) {
      if (champ.type === "checkbox" || champ.type === "radio") {
        champ.checked = etat[i];
      } else if (champ.tagName === "SELECT") {
        Array.prototype.forEach.call(champ.options, function (o, j) {
          o.selected = etat[i][j];
        });
      } else {
        champ.value = etat[i];
      }
    });
  }

  function ecrireDepuisAdresse(liste, adresse) {
    var texte = (adresse || "").split("#")[0];
    var params = new URLSearchParams(texte.indexOf("?") >= 0 ? texte.slice(texte.indexOf("?") + 1) : "");
    liste.forEach(function (champ) {
      var valeurs = params.getAll(champ.name);
      if (champ.type === "checkbox" || champ.type === "radio") {
        champ.toggleAttribute("checked", valeurs.indexOf(champ.value) >= 0);
      } else if (champ.tagName === "SELECT") {
        var options = Array.prototype.slice.call(champ.options);
        var choisie = options.filter(function (o) {
          return valeurs.indexOf(o.value) >= 0;
        })[0] || options[0];
        options.forEach(function (o) {
          o.toggleAttribute("selected", o === choisie);
        });
      } else {
        champ.setAttribute("value", valeurs.length ? valeurs[0] : "");
      }
    });
  }

  document.addEventListener("htmx:beforeHistorySave", function (e) {
    var form = document.getElementById("formulaire-recherche");
    if (!form) return;
    var liste = champs(form);
    var etat = etatVivant(liste);
    ecrireDepuisAdresse(liste, e.detail.path || location.pathname + location.search);
    // htmx reads the snapshot synchronously after this event.
    queueMicrotask(function () {
      remettre(liste, etat);
    });
  });

  // 3. While a search is on its way (seconds on a slow network), the old
  //    results are marked busy, and fade: a tap then is not taken for one
  //    on the new ones.
  function resultatsCibles(e) {
    var cible = e.detail && e.detail.target;
    return cible && cible.id === "resultats" ? cible : null;
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var resultats = resultatsCibles(e);
    if (resultats) resultats.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var resultats = resultatsCibles(e);
    if (resultats) resultats.removeAttribute("aria-busy");
  });

  // 4. « Rechercher » pressed (or Enter), not words being typed: the server
  //    may then take the place out of the words and go there, as it does
  //    for a search sent without JavaScript.
  document.addEventListener("htmx:configRequest", function (e) {
    var declencheur = e.detail.triggeringEvent;
    if (declencheur && declencheur.type === "submit" && e.detail.elt &&
        e.detail.elt.id === "formulaire-recherche") {
      e.detail.headers["X-Recherche-Envoyee"] = "1";
    }
  });

  //    It answers with the address to go to, which replaces the one the
  //    typing pushed: Back then returns to the page before, not here.
  //    (If the typing had not pushed these words yet, the page is kept.)
  document.addEventListener("htmx:beforeSwap", function (e) {
    var aller = e.detail.xhr && e.detail.xhr.getResponseHeader("X-Aller-A");
    if (!aller || aller.charAt(0) !== "/" || aller.charAt(1) === "/") return;
    e.detail.shouldSwap = false;
    var q = document.getElementById("q");
    var ici = new URLSearchParams(location.search).get("q");
    if (q && ici !== null && ici === q.value) location.replace(aller);
    else location.assign(aller);
  });

  //    « Rechercher » once the typing pushed these very words: the same
  //    address again (Back then seemed to do nothing): replaced, not pushed.
  document.addEventListener("htmx:beforeHistoryUpdate", function (e) {
    var h = e.detail.history;
    if (h && h.type === "push" && h.path === location.pathname + location.search) {
      h.type = "replace";
    }
  });

  // 5. The field the error is about is marked invalid, as on a whole page.
  function marquerLeChampEnErreur(form) {
    var erreur = document.getElementById("erreur-recherche");
    var nom = erreur && erreur.getAttribute("data-champ");
    champs(form).forEach(function (champ) {
      var decrit = (champ.getAttribute("aria-describedby") || "")
        .split(" ")
        .filter(function (id) {
          return id && id !== "erreur-recherche";
        });
      if (champ.name === nom) {
        champ.setAttribute("aria-invalid", "true");
        decrit.push("erreur-recherche");
      } else {
        champ.removeAttribute("aria-invalid");
      }
      if (decrit.length) champ.setAttribute("aria-describedby", decrit.join(" "));
      else champ.removeAttribute("aria-describedby");
    });
  }

  document.addEventListener("htmx:afterSettle", function (e) {
    if (!e.detail.target || e.detail.target.id !== "resultats") return;
    var form = document.getElementById("formulaire-recherche");
    if (form) marquerLeChampEnErreur(form);
    var config = e.detail.requestConfig || {};
    var source = config.elt;
    var titre = document.getElementById("titre-resultats");
    if (titre && source && source.hasAttribute("data-focus-resultats")) {
      titre.focus();
    }
    // 6. « Rechercher » pressed on a phone: the form fills the screen and
    //    the new results were below it, out of sight; go to them, as the
    //    page does without JavaScript (#titre-resultats).
    var envoyee = config.headers && config.headers["X-Recherche-Envoyee"] === "1";
    if (titre && envoyee) {
      var haut = titre.getBoundingClientRect().top;
      if (haut < 0 || haut > window.innerHeight - 80) {
        titre.scrollIntoView({ block: "start" });
        titre.focus({ preventScroll: true });
      }
    }
  });
})();
