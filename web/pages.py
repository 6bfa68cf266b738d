"""Public pages: the search, the fiche, the legal pages and the error pages.

Views read the request, ask the catalogue or the search engine, and render.
One URL gives two renderings: the full page, or only the results when htmx
asks for them (``HX-Target: resultats``).
"""

from urllib.parse import quote, urlencode, urlsplit

from flask import (
    Blueprint,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_htmx import HTMX, make_response
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from catalogue import places
from catalogue.recherche import (
    VOCABULAIRE_DES_FACETTES,
    RechercheIndisponible,
    Requete,
    Resultats,
    rechercher_avec_facettes_ouvertes,
)
from catalogue.territoires import referentiel
from catalogue.vocabulaires import vocabulaire
from web import affichage
from web.donnees import db
from web.parametres import ParametreInvalide, requete_depuis_args
from web.securite import url_absolue

bp = Blueprint("catalogue", __name__)
htmx = HTMX()  # reads the htmx request headers; app.py registers the extension

CIBLE_RESULTATS = "resultats"
# Facets offered as checkboxes, in display order, with their French legend.
FILTRES = (
    ("categories_thematiques", "Thème"),
    ("publics", "Pour qui"),
    ("type", "Type d'action"),
    ("frais", "Prix"),
    ("modes_accueil", "Où ça se passe"),
)
MESSAGE_INDISPONIBLE = (
    "La recherche ne répond pas pour le moment. Réessayez dans quelques minutes."
)


@bp.get("/")
def index():
    """Search page; htmx gets only the results and the updated filters."""
    partiel = (
        bool(htmx)
        and htmx.target == CIBLE_RESULTATS
        and not (htmx.boosted or htmx.history_restore_request)
    )
    gabarit = "catalogue/_resultats.html" if partiel else "catalogue/index.html"
    corps = render_template(gabarit, oob=partiel, **_contexte_recherche(request.args))
    # A clean address to share or reload: no empty field, no default sort.
    reponse = make_response(
        corps, push_url=_adresse_propre(request.args) if partiel else None
    )
    reponse.vary.update(("HX-Request", "HX-Target"))
    return reponse


def _contexte_recherche(args: MultiDict) -> dict:
    """Run the search the query string asks for; say what went wrong, in French."""
    erreur, suggestions = None, []
    try:
        requete = requete_depuis_args(args)
    except ParametreInvalide as exc:
        erreur = str(exc)
        suggestions = _suggestions_commune(args.get("commune", ""))
        requete = _requete_de_secours(args)
    try:
        moteur = current_app.extensions["recherche"]
        resultats = rechercher_avec_facettes_ouvertes(moteur, requete)
    except RechercheIndisponible:
        current_app.logger.warning("Recherche indisponible")
        resultats = Resultats(0, 1, requete.par_page, [], {})
        erreur = MESSAGE_INDISPONIBLE
    return {
        "requete": requete,
        "resultats": resultats,
        "cartes": _cartes(resultats),
        "erreur": erreur,
        "suggestions": suggestions,
        "filtres": _filtres(requete, resultats),
        "masques": _filtres_masques(requete),
        "args": args,
    }


@bp.get("/communes")
def communes():
    """The commune suggestions of the search form, as a <datalist>."""
    texte = request.args.get("commune", "")[:80]
    reponse = make_response(
        render_template(
            "_partials/communes.html", communes=referentiel().suggerer(texte)
        )
    )
    reponse.cache_control.public = True
    reponse.cache_control.max_age = 3600
    return reponse


@bp.get("/fiches/<fiche_id>")
def fiche(fiche_id: str):
    catalogue = current_app.extensions["catalogue"]
    fiche = catalogue.fiches.get(fiche_id)
    if fiche is None:
        raise NotFound()
    structure = catalogue.structures.get(fiche.structure)
    prestataires = [
        (catalogue.structures.get(p.structure), p.places) for p in fiche.prestataires
    ]
    return render_template(
        "catalogue/fiche.html",
        fiche=fiche,
        structure=structure,
        prestataires=[(s, n) for s, n in prestataires if s],
        places=_places(fiche),
        telephone=fiche.telephone or (structure.telephone if structure else None),
        courriel=fiche.courriel or (structure.courriel if structure else None),
        lien_sms=_lien_sms(fiche),
        retour=_retour_a_la_recherche(),
    )


@bp.get("/accessibilite")
def accessibilite():
    return render_template("pages/accessibilite.html")


@bp.get("/mentions-legales")
def mentions_legales():
    return render_template("pages/mentions_legales.html")


# --- Helpers ------------------------------------------------------------------


def _adresse_propre(args: MultiDict) -> str:
    propres = MultiDict(
        (cle, valeur)
        for cle, valeur in args.items(multi=True)
        if valeur.strip() and (cle, valeur) != ("tri", "pertinence")
    )
    return _adresse_recherche(propres)


def _places(fiche) -> affichage.Places:
    """Places as the database holds them (the prestataire's last figure)."""
    etat = places.etats(db(), [fiche.id]).get(fiche.id)
    if etat is None:
        return affichage.places(fiche, None, None, suivies=False)
    return affichage.places(fiche, etat.places_restantes, etat.maj_le)


def _requete_de_secours(args: MultiDict) -> Requete:
    """What we can still search when one parameter is wrong: drop the suspects."""
    propres = MultiDict(args)
    for cle in ("commune", "rayon_km", "tri", "page", "par_page"):
        propres.poplist(cle)
    try:
        return requete_depuis_args(propres)
    except ParametreInvalide:
        return Requete(texte=(args.get("q") or "").strip()[:200])


def _suggestions_commune(texte: str) -> list[tuple[str, str]]:
    """(label, URL) for communes close to what the person typed."""
    texte = texte.strip()
    if not texte or referentiel().trouver(texte):
        return []
    args = MultiDict(request.args)
    args.poplist("page")
    liens = []
    for commune in referentiel().suggerer(texte, limite=5):
        args.setlist("commune", [affichage.nom_commune(commune)])
        liens.append((affichage.nom_commune(commune), _adresse_recherche(args)))
    return liens


def _adresse_recherche(args: MultiDict) -> str:
    """The search page with these parameters; never url_for(**user_keys), whose
    reserved names (_anchor, _scheme, _method, endpoint…) would be obeyed."""
    requete = urlencode(list(args.items(multi=True)), safe="(),:/@")
    return url_for("catalogue.index") + (f"?{requete}" if requete else "")


def _cartes(resultats: Resultats) -> list[dict]:
    """What a result card shows, for each result still in the catalogue."""
    catalogue = current_app.extensions["catalogue"]
    cartes = []
    for resultat in resultats.resultats:
        fiche = catalogue.fiches.get(resultat.id)
        if fiche is None:
            continue
        structure = catalogue.structures.get(fiche.structure)
        surlignage = resultat.surlignage
        cartes.append(
            {
                "fiche": fiche,
                "structure": structure,
                "nom": Markup(surlignage["nom"]) if "nom" in surlignage else fiche.nom,
                "resume": Markup(surlignage.get("resume", "")) or fiche.resume,
                "communes": affichage.communes(fiche, structure),
                "distance": affichage.distance_fr(resultat.distance_km),
                "places": affichage.places(
                    fiche, resultat.places_restantes, resultat.places_maj_le
                ),
            }
        )
    return cartes


def _filtres(requete: Requete, resultats: Resultats) -> list[dict]:
    """The checkbox groups: values with results, plus those already ticked."""
    groupes = []
    for facette, legende in FILTRES:
        comptes = resultats.facettes.get(facette, {})
        cochees = set(requete.filtres.get(facette, ()))
        valeurs = [v for v in _ordre(facette) if comptes.get(v) or v in cochees]
        groupes.append(
            {
                "nom": facette,
                "legende": legende,
                "nombre_coches": len(cochees),
                "options": [
                    {
                        "valeur": v,
                        "libelle": affichage.libelle(facette, v),
                        "nombre": comptes.get(v, 0),
                        "coche": v in cochees,
                    }
                    for v in valeurs
                ],
            }
        )
    return groupes


def _ordre(facette: str) -> list[str]:
    if facette == "categories_thematiques":
        return list(affichage.themes_tries())
    return list(vocabulaire(VOCABULAIRE_DES_FACETTES[facette]))


def _filtres_masques(requete: Requete) -> list[tuple[str, str]]:
    """Active filters with no checkbox (from a shared link): keep them."""
    visibles = {nom for nom, _ in FILTRES} | {"mobilisable_par"}
    return [
        (facette, valeur)
        for facette, valeurs in requete.filtres.items()
        if facette not in visibles
        for valeur in valeurs
    ]


def _retour_a_la_recherche() -> str:
    """The search the person came from (without JavaScript too), else a new one."""
    precedente = urlsplit(request.referrer or "")
    if precedente.netloc == request.host and precedente.path == "/":
        return url_for("catalogue.index") + (
            f"?{precedente.query}" if precedente.query else ""
        )
    return url_for("catalogue.index")


def _lien_sms(fiche) -> str:
    """An ``sms:`` link whose body carries the fiche's name and address."""
    adresse = url_absolue("catalogue.fiche", fiche_id=fiche.id)
    texte = f"{fiche.nom} : {adresse}"
    # "?&body=" is understood by both Android and iOS messaging apps.
    return "sms:?&body=" + quote(texte)
