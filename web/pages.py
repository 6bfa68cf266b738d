"""Public pages: the search, the fiche, the legal pages and the error pages.

Views read the request, ask the catalogue or the search engine, and render.
One URL gives two renderings: the full page, or only the results when htmx
asks for them (``HX-Target: resultats``).
"""

import math
import re
import threading
from collections import OrderedDict
from dataclasses import replace
from urllib.parse import quote, urlencode, urlsplit

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_htmx import HTMX, make_response
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from catalogue import heure, places
from catalogue.recherche import (
    FACETTES,
    RAYON_MAX_KM,
    VOCABULAIRE_DES_FACETTES,
    RechercheIndisponible,
    Requete,
    Resultats,
    rechercher_avec_facettes_ouvertes,
)
from catalogue.recherche.documents import documents
from catalogue.recherche.langue import mots, mots_vides
from catalogue.recherche.propositions import Propositions, Vocabulaire, proposer
from catalogue.territoires import ENVELOPPE, LIBELLE_MAX, Lieu, referentiel
from catalogue.vocabulaires import vocabulaire
from web import affichage
from web.donnees import db
from web.parametres import (
    RAYON_MIN_KM,
    ParametreInvalide,
    departements_du_catalogue,
    requete_depuis_args,
    trouver_lieu,
)
from web.prescription import droits
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
    pages = current_app.extensions.setdefault("pages_recherche", PagesRendues())
    cle = _cle_de_page(partiel)
    # « Rechercher » pressed (recherche.js says so), not words being typed.
    envoyee = bool(htmx) and request.headers.get("X-Recherche-Envoyee") == "1"
    corps, statut = (None if envoyee else pages.lire(cle)), 200
    if corps is not None and corps.startswith(REDIRECTION):
        # « orne », « sdf nancy »: decided once, not searched again each time.
        return redirect(corps.removeprefix(REDIRECTION), 303)
    if corps is None:
        contexte = _contexte_recherche(request.args)
        ailleurs = contexte["lieu_dans_les_mots"]
        if ailleurs and not ailleurs["lien_seul"] and (envoyee or not htmx):
            # A search sent whole: the place goes in its box. Typed as one
            # goes (htmx), the page changes under no one's fingers: a link.
            if envoyee:
                # recherche.js goes there in place of the address the typing
                # pushed (HX-Redirect would add one: Back came here again).
                reponse = make_response("", 200)
                reponse.headers["X-Aller-A"] = ailleurs["adresse"]
                return reponse
            if contexte["complete"]:
                pages.garder(cle, REDIRECTION + ailleurs["adresse"])
            return redirect(ailleurs["adresse"], 303)
        corps = render_template(gabarit, oob=partiel, **contexte)
        if contexte["complete"]:  # a page missing a search's answer is not kept
            pages.garder(cle, corps)
        # Monitoring and crawlers see the outage; htmx swaps only success,
        # and its swap says « indisponible » better than a generic error.
        if contexte["indisponible"] and not partiel:
            statut = 503
    # A clean address to share or reload: no empty field, no default sort.
    reponse = make_response(
        corps, statut, push_url=_adresse_propre(request.args) if partiel else None
    )
    if statut == 503:
        reponse.headers["Retry-After"] = "30"
    reponse.vary.update(
        (
            "HX-Request",
            "HX-Target",
            "HX-Boosted",
            "HX-History-Restore-Request",
            "X-Recherche-Envoyee",
        )
    )
    return reponse


# A kept « page » that is a redirection (the place was in the words).
REDIRECTION = "\x00303 "


class PagesRendues:
    """Search pages already rendered, by address, kept while the index and
    the validated fiches stay as they were: everyday searches repeat, and
    nothing on the page depends on who asks (no session, no form token).
    Per worker, at most TAILLE pages and CARACTERES_MAX characters, the
    least recently read dropped first; a new day starts afresh (the cards
    read the next session against it)."""

    TAILLE = 256
    CARACTERES_MAX = 8_000_000

    def __init__(self):
        self._pages: OrderedDict[tuple, str] = OrderedDict()
        self._caracteres = 0
        self._verrou = threading.Lock()

    def lire(self, cle: tuple | None) -> str | None:
        if cle is None:
            return None
        with self._verrou:
            corps = self._pages.get(cle)
            if corps is not None:
                self._pages.move_to_end(cle)
            return corps

    def garder(self, cle: tuple | None, corps: str) -> None:
        if cle is None:
            return
        with self._verrou:
            ancien = self._pages.pop(cle, "")
            self._pages[cle] = corps
            self._caracteres += len(corps) - len(ancien)
            while (
                len(self._pages) > self.TAILLE or self._caracteres > self.CARACTERES_MAX
            ):
                _cle, vieux = self._pages.popitem(last=False)
                self._caracteres -= len(vieux)


def _cle_de_page(partiel: bool) -> tuple | None:
    """The address and what the page was worked out from; None when the
    engine cannot say whether its index changed (nothing is kept)."""
    version = getattr(current_app.extensions["recherche"], "version", None)
    index = version() if version else None
    if index is None:
        return None
    publication = current_app.extensions.get("publication")
    fiches = publication.version if publication else None
    # The cards tell a logged-in référent whether his service may prescribe.
    d = droits()
    referent = getattr(d.service, "type_prescripteur", "") if d and d.referent else None
    # « Prochaine session le … » is read against today's date.
    return index, fiches, heure.aujourd_hui(), partiel, referent, request.query_string


def _contexte_recherche(args: MultiDict) -> dict:
    """Run the search the query string asks for; say what went wrong, in French."""
    erreur, suggestions, champ_en_erreur = None, [], None
    try:
        requete = requete_depuis_args(args)
    except ParametreInvalide as exc:
        erreur, champ_en_erreur = str(exc), exc.champ
        suggestions = _suggestions_commune(args.get("commune", ""))
        requete = _requete_de_secours(args)
    moteur = current_app.extensions["recherche"]
    try:
        resultats = rechercher_avec_facettes_ouvertes(moteur, requete)
        suivi = _suivi_des_places(moteur, requete, resultats)
    except RechercheIndisponible:
        current_app.logger.warning("Recherche indisponible")
        resultats = Resultats(0, 1, requete.par_page, [], {})
        erreur = MESSAGE_INDISPONIBLE
        suivi = {"libres": None, "suivies": True}
    actifs = _filtres_actifs(requete, args)
    propositions: list[dict] | None = []
    lieu_cherche = None
    if not resultats.total and not erreur:
        lieu_cherche = _lieu_cherche(args)
        propositions = _propositions(moteur, requete, args, lieu_cherche)
    lieu_choisi, autres_lieux = (None, []) if erreur else _lieux_homonymes(args)
    # « permis massy » sorted by distance: the missing place is in the words.
    sans_lieu = not args.get("commune", "").strip() and (
        args.get("tri") == "distance" or args.get("rayon_km", "").strip()
    )
    lieu_dans_les_mots = None
    if erreur is None or (sans_lieu and erreur != MESSAGE_INDISPONIBLE):
        lieu_dans_les_mots = lieu_tape_dans_les_mots(args, resultats)
    return {
        "lieu_dans_les_mots": lieu_dans_les_mots,
        "lieu_choisi": lieu_choisi,
        "autres_lieux": autres_lieux,
        "requete": requete,
        "resultats": resultats,
        "cartes": _cartes(resultats, requete.point),
        "erreur": erreur,
        "champ_en_erreur": champ_en_erreur,
        "indisponible": erreur == MESSAGE_INDISPONIBLE,
        # Every search answered: the page may be served again as it is.
        "complete": erreur is None and propositions is not None,
        "suggestions": suggestions,
        "propositions": propositions or [],
        "lieu_cherche": lieu_cherche,
        "filtres": _filtres(requete, resultats),
        "masques": _filtres_masques(requete),
        "args": args,
        "adresse_page": lambda page: _adresse_page(args, page),
        "suivi_places": suivi,
        "filtres_actifs": actifs,
        "tout_effacer": _adresse_sans_filtres(requete, args) if actifs else None,
    }


@bp.get("/communes")
def communes():
    """The commune suggestions of the search form, as a <datalist>."""
    texte = request.args.get("commune", "")[:80]
    reponse = make_response(
        render_template(
            "_partials/communes.html",
            libelles=[
                referentiel().libelle_suggere(c, texte)
                for c in referentiel().suggerer(texte)
            ],
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
    fiche = _sessions_en_direct(fiche)
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
        adresse=url_absolue("catalogue.fiche", fiche_id=fiche.id),
        retour=_retour_a_la_recherche(),
    )


@bp.get("/glossaire")
def glossaire():
    """Every acronym of the catalogue, in plain French."""
    return render_template(
        "pages/glossaire.html", sigles_tries=sorted(affichage.GLOSSAIRE.items())
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


def _sessions_en_direct(fiche):
    """Each session with the places the database holds (the YAML's are a start)."""
    if not fiche.sessions:
        return fiche
    lignes = places.par_session(db(), fiche.id)
    sessions = [
        s.model_copy(
            update={
                "places_restantes": lignes[places.cle_session(s.debut)].places_restantes
            }
        )
        if places.cle_session(s.debut) in lignes
        else s
        for s in fiche.sessions
    ]
    return fiche.model_copy(update={"sessions": sessions})


def _places(fiche) -> affichage.Places:
    """Places as the database holds them (the prestataire's last figure)."""
    etat = places.etats(db(), [fiche.id]).get(fiche.id)
    if etat is None:
        return affichage.places(fiche, None, None, suivies=False)
    return affichage.places(fiche, etat.places_restantes, etat.maj_le)


def _requete_de_secours(args: MultiDict) -> Requete:
    """What we can still search when one parameter is wrong: drop the
    suspects, the distance first (« Essonne » within 10 km: the Essonne's
    actions, not the whole catalogue)."""
    for suspects in (
        ("rayon_km", "tri"),
        ("commune", "rayon_km", "tri", "page", "par_page"),
    ):
        propres = MultiDict(args)
        for cle in suspects:
            propres.poplist(cle)
        try:
            return requete_depuis_args(propres)
        except ParametreInvalide:
            continue
    return Requete(texte=(args.get("q") or "").strip()[:200])


POPULATION_PROPOSEE = 5000


def lieu_tape_dans_les_mots(args: MultiDict, resultats: Resultats) -> dict | None:
    """« cours de français evry »: words the search had to leave out that
    name a place, at the end or the start of the text, when no place was
    given: the same search there (its address, the place, the other words)."""
    # « permis massy 10 km », « à 10 km de Massy »: the distance is read
    # first, wherever it is, so that the town is at an end of the words.
    rayon, tapes = _distance_tapee(_mots_tapes(args.get("q", "")))
    ignores = {" ".join(mots(m)) for m in resultats.mots_ignores}
    # Nothing found at all (« evry », « 91000 » alone): every word is left
    # out, and the whole text may be the place.
    rien = not resultats.total and not ignores
    if rien:
        ignores = {" ".join(mots(m)) for m in tapes}
    if args.get("commune", "").strip():
        return None
    # « orne », « essonne » alone: a département (or a groupement) is where
    # one looks, even if some fiches write its name.
    texte = " ".join(tapes)
    # « nomme » first (microseconds): resolving an unknown text runs the
    # fuzzy place suggestions, 2 ms on every search page.
    if (
        tapes
        and len(texte) <= LIBELLE_MAX
        and not rien
        and referentiel().lieux.nomme(texte)
    ):
        lieu = trouver_lieu(texte).lieu
        if lieu is not None and lieu.genre != "commune":
            return _chercher_a(args, lieu.libelle, False, [], not _ici(lieu))
        # With a distance, a town where the catalogue has actions is the
        # place (« massy 20km »); « job 10 km » is still the word.
        impose = bool(rayon) and _ici(lieu) if lieu is not None else False
        if lieu is not None and (impose or lieu.population >= POPULATION_PROPOSEE):
            # « alençon », written in fiches' names too (« Mission locale du
            # Pays d'Alençon »): a town is offered, never imposed; a village
            # named like a word (« Rue », « Job ») is not even offered.
            return _chercher_a(
                args, lieu.libelle, True, [], not impose, rayon if impose else None
            )
    if not ignores:
        return None
    vides = mots_vides()

    def laisse(mot: str) -> bool:  # left out, or a stop word (« le Mans »)
        plie = " ".join(mots(mot))
        return plie in ignores or plie in vides

    for n in range(min(3, len(tapes) - (not rien)), 0, -1):
        for lieu_mots, reste in ((tapes[-n:], tapes[:-n]), (tapes[:n], tapes[n:])):
            texte = " ".join(lieu_mots)
            # A whole name only: « evr » while « evry » is being typed is no place.
            # Left out (or stop words), or with a postcode left out:
            # « permis corbeil 91000 », where « corbeil » itself was found.
            if not (
                any(" ".join(mots(m)) in ignores for m in lieu_mots)
                and (all(map(laisse, lieu_mots)) or re.fullmatch(ENVELOPPE, texte))
                and referentiel().lieux.nomme(texte)
            ):
                continue
            lieu = trouver_lieu(texte).lieu
            if lieu is not None:
                commune = lieu.genre == "commune"
                return _chercher_a(
                    args, lieu.libelle, commune, reste, not _ici(lieu), rayon
                )
            if referentiel().lieux.desaccord(texte):
                # « paris 13001 »: not Marseille for its postcode; the place
                # box asks which was meant.
                return _chercher_a(args, texte, True, reste)
    return None


def _ici(lieu: Lieu) -> bool:
    """Where the catalogue has actions: taken as the place at once. Elsewhere
    (« mer » is also Mer, in Loir-et-Cher) it is only offered."""
    return lieu.departement is None or lieu.departement in departements_du_catalogue()


# « à 10 km de Massy », « dans un rayon de 2,5 km », « 3 km à pied »: the
# distance read with a town, the words around it included.
DISTANCE_TAPEE = re.compile(
    r"(?:(?<!\w)(?:dans un rayon de|[àa] moins de|[àa])\s+)?"
    r"(?<![\w,.])(\d{1,3}(?:[.,]\d+)?)\s*kms?(?!\w)(?:\s+[àa] pied(?!\w))?",
    re.IGNORECASE,
)
# Words that only say where, next to the town: « près de Massy ».
PRES_DU_LIEU = {"pres", "autour", "vers", "cote", "proximite", "alentours", "environs"}
# « d'Orsay », « l'Haÿ-les-Roses »: the town after its elision.
ELISION = re.compile(r"^([dlDL]['’])(\w.*)$")


def _mots_tapes(texte: str) -> list[str]:
    """The typed words, an elided article apart from its town."""
    mots_ = []
    for t in texte.split():
        elision = ELISION.match(t)
        mots_ += elision.groups() if elision else [t]
    return mots_


def _distance_tapee(reste: list[str]) -> tuple[str | None, list[str]]:
    """The radius the words give with a town, and the words without it."""
    texte = " ".join(reste)
    lue = DISTANCE_TAPEE.search(texte)
    if not lue:
        return None, reste
    rayon = math.ceil(float(lue[1].replace(",", ".")))
    if not RAYON_MIN_KM <= rayon <= RAYON_MAX_KM:
        return None, reste
    return str(rayon), (texte[: lue.start()] + texte[lue.end() :]).split()


def _chercher_a(
    args: MultiDict,
    libelle: str,
    commune: bool,
    reste: list[str],
    lien_seul=False,
    rayon: str | None = None,
) -> dict:
    """The same search at the place ``libelle``, with the words left (its
    address, the place, the words); ``lien_seul``: offered, never imposed;
    ``rayon``: the distance typed, for a town when none was chosen."""
    if not commune or args.get("rayon_km", "").strip():
        rayon = None
    # « formation à », « permis près de »: what only leads to the place.
    autour = mots_vides() | PRES_DU_LIEU
    while reste and " ".join(mots(reste[-1])) in autour:
        reste = reste[:-1]
    while reste and " ".join(mots(reste[0])) in autour:
        reste = reste[1:]
    ailleurs = MultiDict(args)
    ailleurs.setlist("q", [" ".join(reste)] if reste else [])
    ailleurs.setlist("commune", [libelle])
    if rayon:
        ailleurs.setlist("rayon_km", [rayon])
    ailleurs.setlist("page", [])
    return {
        "adresse": _adresse_propre(ailleurs),
        "args": ailleurs,
        "rayon": rayon,
        "libelle": libelle,
        "commune": commune,
        "mots": " ".join(reste),
        "lien_seul": lien_seul,
    }


def _suggestions_commune(texte: str) -> list[tuple[str, str]]:
    """(label, URL) for places spelt close to what the person typed."""
    texte = texte.strip()
    if not texte:
        return []
    resolution = trouver_lieu(texte)
    if resolution.lieu:
        return []
    return _liens_lieux(resolution.suggestions)


def _liens_lieux(lieux) -> list[tuple[str, str]]:
    args = MultiDict(request.args)
    args.poplist("page")
    liens = []
    for lieu in lieux:
        args.setlist("commune", [lieu.libelle])
        liens.append((lieu.libelle, _adresse_recherche(args)))
    return liens


def _lieux_homonymes(args: MultiDict) -> tuple[str | None, list[tuple[str, str]]]:
    """The place chosen for an ambiguous name, and links to the others."""
    texte = (args.get("commune") or "").strip()
    if not texte:
        return None, []
    resolution = trouver_lieu(texte)
    if not resolution.lieu or not resolution.autres:
        return None, []
    return resolution.lieu.libelle, _liens_lieux(resolution.autres)


def _propositions(
    moteur, requete: Requete, args: MultiDict, lieu: Lieu | None
) -> list[dict] | None:
    """The empty page's way out: (label, count, URL) of searches that find
    (None: the engine did not answer); ``lieu``: the place searched, found."""
    try:
        trouvees: Propositions = proposer(moteur, requete, _vocabulaire())
    except RechercheIndisponible:
        current_app.logger.warning("Propositions indisponibles")
        return None
    # "À Nantes (44000)" for a commune; "Essonne (91)" as it is for a wider place.
    ici = lieu and (f"À {lieu.libelle}" if lieu.genre == "commune" else lieu.libelle)
    mots = f"« {requete.texte} »"
    liens = []
    for p in trouvees.propositions:
        propres = MultiDict(args)
        propres.poplist("page")
        if trouvees.sans_places:
            propres.poplist("places_disponibles")
        if p.genre == "orthographe":
            propres.setlist("q", [p.valeur])
            libelle = f"Vouliez-vous dire « {p.valeur} » ?"
        elif p.genre == "sans_lieu":
            for cle in ("commune", "rayon_km"):
                propres.poplist(cle)
            if propres.get("tri") == "distance":
                propres.poplist("tri")
            # With no words typed, « » would stand alone in the link.
            sans = (
                "sans la commune"
                if not lieu or lieu.genre == "commune"
                else "sans ce lieu"
            )
            libelle = f"{mots} partout, {sans}" if requete.texte else f"Partout, {sans}"
        elif p.genre == "sans_mots":
            propres.poplist("q")
            libelle = f"{ici}, sans {mots}" if ici else f"Sans {mots}"
        elif p.genre == "sans_filtres":
            for facette in requete.filtres:
                propres.poplist(facette)
            libelle = (
                "Les mêmes mots, sans les filtres"
                if requete.texte
                else "Sans les filtres"
            )
        elif p.genre == "sans_places":
            propres.poplist("places_disponibles")
            libelle = "Aussi les actions sans place libre annoncée"
        else:
            propres.poplist("q")
            for facette in requete.filtres:
                propres.poplist(facette)
            propres.setlist("categories_thematiques", [p.valeur])
            libelle = affichage.libelle("categories_thematiques", p.valeur)
        if trouvees.sans_places and p.genre != "theme":
            # Before the question mark of « Vouliez-vous dire … ? ».
            question = libelle.endswith(" ?")
            libelle = libelle.removesuffix(" ?") + ", même sans place libre annoncée"
            libelle += " ?" if question else ""
        liens.append(
            {
                "genre": p.genre,
                "libelle": libelle,
                "sans_places": trouvees.sans_places,
                "total": p.total,
                "lien": _adresse_recherche(propres),
            }
        )
    return liens


def _lieu_cherche(args: MultiDict) -> Lieu | None:
    """The place searched, as found: « 44000 » is Nantes (44000)."""
    commune = (args.get("commune") or "").strip()
    return trouver_lieu(commune).lieu if commune else None


def _vocabulaire() -> Vocabulaire:
    """The catalogue's words, for spelling suggestions (built once per app)."""
    vocabulaire_ = current_app.extensions.get("vocabulaire_recherche")
    if vocabulaire_ is None:
        catalogue = current_app.extensions["catalogue"]
        vocabulaire_ = Vocabulaire.depuis(documents(catalogue))
        current_app.extensions["vocabulaire_recherche"] = vocabulaire_
    return vocabulaire_


def _adresse_page(args: MultiDict, page: int) -> str:
    """The same search at another page."""
    autre = MultiDict(args)
    autre.setlist("page", [str(page)] if page > 1 else [])
    return _adresse_recherche(autre)


def _adresse_recherche(args: MultiDict) -> str:
    """The search page with these parameters; never url_for(**user_keys), whose
    reserved names (_anchor, _scheme, _method, endpoint…) would be obeyed."""
    requete = urlencode(list(args.items(multi=True)), safe="(),:/@")
    return url_for("catalogue.index") + (f"?{requete}" if requete else "")


def _cartes(
    resultats: Resultats, point: tuple[float, float] | None = None
) -> list[dict]:
    """What a result card shows, for each result still in the catalogue
    (``point``: where distances are measured from)."""
    catalogue = current_app.extensions["catalogue"]
    cartes = []
    for resultat in resultats.resultats:
        fiche = catalogue.fiches.get(resultat.id)
        if fiche is None:
            continue
        structure = catalogue.structures.get(fiche.structure)
        surlignage = resultat.surlignage
        # The distance is to the nearest lieu: its commune comes first.
        depuis = point if resultat.distance_km is not None else None
        cartes.append(
            {
                "fiche": fiche,
                "structure": structure,
                "nom": Markup(surlignage["nom"]) if "nom" in surlignage else fiche.nom,
                "resume": Markup(surlignage.get("resume", "")) or fiche.resume,
                "communes": affichage.communes(fiche, structure, depuis),
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


def _suivi_des_places(moteur, requete: Requete, resultats: Resultats) -> dict:
    """What the "places left" box can promise for this search.

    ``libres``: actions of this search with places left (one count query).
    ``suivies``: whether any action of this search tracks its places at all.
    When none has places left, the "places" sort tells the two cases apart:
    it puts untracked actions before full ones, so the last result of that
    sort is full if and only if some action of the search tracks its places.
    """
    compte = replace(requete, page=1, par_page=1, facettes=())
    libres = resultats.places_libres
    if libres is None:
        libres = moteur.rechercher(replace(compte, places_disponibles=True)).total
    if libres:
        return {"libres": libres, "suivies": True}
    if resultats.places_completes is not None and not requete.places_disponibles:
        # Nothing left: places are tracked if and only if some action is full.
        return {
            "libres": 0,
            "suivies": not resultats.total or resultats.places_completes > 0,
        }
    total = resultats.total
    if requete.places_disponibles:
        total = moteur.rechercher(replace(compte, places_disponibles=False)).total
    if not total:  # nothing found: nothing to say about places either
        return {"libres": 0, "suivies": True}
    dernier = moteur.rechercher(
        replace(compte, places_disponibles=False, tri="places", page=total)
    ).resultats
    # An engine may refuse to page that far (Meilisearch stops at 1 000):
    # then say nothing rather than something false.
    return {"libres": 0, "suivies": not dernier or dernier[-1].complet}


def _args_de_recherche(requete: Requete, args: MultiDict) -> MultiDict:
    """The query string of this search, filters normalised, back to page 1."""
    propres = MultiDict(
        (cle, valeur)
        for cle, valeur in args.items(multi=True)
        if cle not in (*FACETTES, "page", "places_disponibles") and valeur.strip()
    )
    for facette, valeurs in requete.filtres.items():
        propres.setlist(facette, list(valeurs))
    if requete.places_disponibles:
        propres["places_disponibles"] = "1"
    return propres


def _filtres_actifs(requete: Requete, args: MultiDict) -> list[dict]:
    """Each active filter with the address of the same search without it."""
    actifs = []
    base = _args_de_recherche(requete, args)
    if requete.places_disponibles:
        sans = MultiDict(base)
        sans.poplist("places_disponibles")
        actifs.append(
            {
                "libelle": "Seulement s'il reste des places",
                "lien": _adresse_recherche(sans),
            }
        )
    for facette, valeurs in requete.filtres.items():
        for valeur in valeurs:
            sans = MultiDict(base)
            sans.setlist(facette, [v for v in valeurs if v != valeur])
            actifs.append(
                {
                    "libelle": affichage.libelle(facette, valeur),
                    "lien": _adresse_recherche(sans),
                }
            )
    return actifs


def _adresse_sans_filtres(requete: Requete, args: MultiDict) -> str:
    """The same words and commune, every filter removed."""
    garde = MultiDict(
        (cle, v)
        for cle, v in _args_de_recherche(requete, args).items(multi=True)
        if cle in ("q", "commune", "rayon_km", "tri", "par_page")
    )
    return _adresse_recherche(garde)


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
