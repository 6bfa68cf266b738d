"""The pilotage page, its CSV exports and its JSON API.

Département admins see every action; a prestataire sees the same page
limited to its own structures' actions. Figures come from
``prescription.pilotage`` (counted in the database, small counts hidden);
this module reads the filters, checks who asks, draws the charts as SVG on
the server and writes the CSV. Works without JavaScript: a GET form.
"""

import csv
import hashlib
import io
import re
from datetime import UTC, date, datetime
from functools import wraps
from typing import Annotated, Literal

import click
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.cli import AppGroup
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from sqlmodel import Session

from catalogue import heure
from catalogue.recherche import valeurs_connues
from catalogue.recherche.langue import sans_accents
from catalogue.vocabulaires import vocabulaire
from prescription import pilotage
from prescription.pilotage import Filtres, Pilotage, Tableau
from web import affichage
from web.donnees import db
from web.parametres import TEXTE_MAX, trouver_lieu
from web.prescription import connexion_requise, droits
from web.prescription_pro import cellule
from web.site import erreur_json

bp = Blueprint("pilotage", __name__)

TAILLE_CSV_MAX = 2 * 1024 * 1024


@bp.after_request
def _jamais_en_cache(reponse):
    reponse.headers["Cache-Control"] = "no-store, private"
    return reponse


# --- Parameters ------------------------------------------------------------------

MOIS_RE = re.compile(r"^([0-9]{4})-([0-9]{2})$")  # not every digit \d takes
ANNEE_MIN, ANNEE_MAX = 2000, 2100


def _mois(nom: str):
    def lire(brut: object) -> str:
        texte = str(brut or "").strip()
        m = MOIS_RE.match(texte)
        if not m or not 1 <= int(m[2]) <= 12:
            raise ValueError(
                f"« {nom} » : écrivez un mois sous la forme AAAA-MM, par exemple "
                f"2026-01 (reçu : « {texte} »)."
            )
        # The right form, but a month no figure can belong to.
        if not ANNEE_MIN <= int(m[1]) <= ANNEE_MAX:
            raise ValueError(
                f"« {nom} » : {texte} est hors des mois comptés ; choisissez un mois "
                f"de {ANNEE_MIN}-01 à {ANNEE_MAX}-12."
            )
        return texte

    return BeforeValidator(lire)


def _texte(brut: object) -> str:
    return str(brut or "").strip()[:TEXTE_MAX]


def _vocabulaire(nom: str, quoi: str, possibles):
    def lire(brut: object) -> str:
        texte = _texte(brut)
        if texte and texte not in possibles():
            raise ValueError(f"{quoi} inconnu(e) : « {texte} ».")
        return texte

    return BeforeValidator(lire)


class ParametresPilotage(BaseModel):
    """Les filtres de la page de pilotage, de ses CSV et de GET /api/v1/pilotage."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    du: Annotated[
        str,
        _mois("Du"),
        Field(description="Premier mois compté (AAAA-MM) ; défaut : janvier."),
    ] = ""
    au: Annotated[
        str,
        _mois("Au"),
        Field(description="Dernier mois compté (AAAA-MM) ; défaut : ce mois-ci."),
    ] = ""
    territoire: Annotated[
        str,
        BeforeValidator(_texte),
        Field(
            description="Commune (nom, code postal ou INSEE), intercommunalité ou "
            "département où habitent les personnes."
        ),
    ] = ""
    thematique: Annotated[
        str,
        _vocabulaire("thematique", "Thème", lambda: valeurs_connues("thematiques")),
        Field(description="Thématique des actions (identifiant)."),
    ] = ""
    structure: Annotated[
        str,
        BeforeValidator(_texte),
        Field(description="Structure qui porte les actions (identifiant)."),
    ] = ""
    fiche: Annotated[
        str,
        BeforeValidator(_texte),
        Field(description="Une action (identifiant de sa fiche)."),
    ] = ""
    financeur: Annotated[
        str,
        _vocabulaire("financeur", "Financeur", lambda: set(vocabulaire("financeurs"))),
        Field(description="Financeur des actions (identifiant)."),
    ] = ""


PARAMETRES = tuple(ParametresPilotage.model_fields)


def lire_parametres(args) -> tuple[ParametresPilotage, dict[str, str]]:
    """The filters, and a French message per field that is wrong.

    A wrong field is dropped (its text stays in the form); the others apply.
    """
    brutes = {n: args.get(n) for n in PARAMETRES if str(args.get(n) or "").strip()}
    erreurs: dict[str, str] = {}
    try:
        return ParametresPilotage.model_validate(brutes), erreurs
    except ValidationError as exc:
        for e in exc.errors():
            cause = (e.get("ctx") or {}).get("error")
            erreurs[str(e["loc"][0])] = str(cause) if cause else "Valeur invalide."
    bonnes = {n: v for n, v in brutes.items() if n not in erreurs}
    return ParametresPilotage.model_validate(bonnes), erreurs


def _debut_du_mois(texte: str) -> datetime:
    annee, mois = map(int, texte.split("-"))
    return heure.debut_du_mois(annee, mois)


def _mois_suivant(texte: str) -> datetime:
    annee, mois = map(int, texte.split("-"))
    return heure.debut_du_mois(annee, mois + 1)


def periode(p: ParametresPilotage, aujourd_hui: date | None = None) -> tuple[str, str]:
    aujourd_hui = aujourd_hui or heure.aujourd_hui()
    return (
        p.du or f"{aujourd_hui.year}-01",
        p.au or f"{aujourd_hui.year}-{aujourd_hui.month:02d}",
    )


def portee() -> tuple[str, ...] | None:
    """The structures this user's figures cover (None: all of them)."""
    d = droits()
    if d.departement:
        return None
    return tuple(sorted(d.structures_prestataires))


def filtres(
    p: ParametresPilotage, erreurs: dict[str, str]
) -> tuple[Filtres, tuple[str, str]]:
    """The domain's filters; problems found on the way join ``erreurs``."""
    catalogue = current_app.extensions["catalogue"]
    du, au = periode(p)
    if du > au:
        erreurs["au"] = f"Le mois « Au » ({au}) est avant le mois « Du » ({du})."
        au = du
    territoire = None
    if p.territoire:
        lieu = trouver_lieu(p.territoire).lieu
        if lieu is None:
            erreurs["territoire"] = (
                f"Lieu introuvable : « {p.territoire} ». Tapez une commune, un "
                "code postal, une intercommunalité ou un département."
            )
        else:
            territoire = lieu.code
    mes_structures = portee()
    structure = p.structure
    if structure and (
        structure not in catalogue.structures
        or (mes_structures is not None and structure not in mes_structures)
    ):
        erreurs["structure"] = f"Structure inconnue ici : « {structure} »."
        structure = ""
    fiche = p.fiche
    if fiche and (
        fiche not in catalogue.fiches
        or (
            mes_structures is not None
            and catalogue.fiches[fiche].structure not in mes_structures
        )
    ):
        erreurs["fiche"] = f"Action inconnue ici : « {fiche} »."
        fiche = ""
    return Filtres(
        debut=_debut_du_mois(du),
        fin=_mois_suivant(au),
        territoire=territoire,
        fiches=pilotage.fiches_retenues(
            catalogue.fiches, p.thematique, structure, fiche, p.financeur
        ),
        structures=mes_structures,
    ), (du, au)


def seuil() -> int:
    return int(current_app.config.get("PILOTAGE_SEUIL", pilotage.SEUIL_DEFAUT))


def sorties() -> pilotage.Sorties:
    extensions = current_app.extensions
    if "pilotage_sorties" not in extensions:
        extensions["pilotage_sorties"] = pilotage.lire_sorties(
            current_app.config.get("PILOTAGE_SORTIES", pilotage.SORTIES_DEFAUT)
        )
    return extensions["pilotage_sorties"]


def calculer(f: Filtres) -> Pilotage:
    catalogue = current_app.extensions["catalogue"]
    return pilotage.calculer(
        db(),
        f,
        sorties(),
        catalogue.fiches,
        seuil(),
        {k: s.nom for k, s in catalogue.structures.items()},
    )


def comparer(r: Pilotage, f: Filtres, du: str, bilans=None) -> pilotage.Comparaison:
    """Each action's results this period beside its last published year."""
    catalogue = current_app.extensions["catalogue"]
    return pilotage.comparer(
        r,
        pilotage.historique(db(), portee()) if bilans is None else bilans,
        int(du[:4]),
        f,
        catalogue.fiches,
        sorties(),
        {k: s.nom for k, s in catalogue.structures.items()},
    )


def pilotage_requis(vue):
    """Département admins and prestataires; anybody else is refused."""

    @wraps(vue)
    @connexion_requise
    def garde(*args, **kwargs):
        d = droits()
        if not (d.departement or d.prestataire):
            return render_template("prescription/interdit.html"), 403
        return vue(*args, **kwargs)

    return garde


# --- Charts (SVG drawn here, numbers in the table beside) ---------------------------

LARGEUR = 360
BARRE_MAX = 250


def barres(t: Tableau) -> dict:
    """Horizontal bars, one per row: label above, bar, value after."""
    rangees = list(zip(t.lignes, t.cellules[:-1], strict=True))
    plus_grand = max((c[-1].visible or 0 for _, c in rangees), default=0) or 1
    barres_, y = [], 0
    for (cle, libelle), rangee in rangees:
        total = rangee[-1]
        largeur = round(BARRE_MAX * (total.visible or 0) / plus_grand, 1)
        barres_.append(
            {
                "cle": cle,
                "libelle": libelle,
                "y_texte": y + 16,
                "y": y + 22,
                "largeur": largeur,
                "x_valeur": largeur + 6,
                "texte": total.texte(t.seuil),
            }
        )
        y += 48
    return {"hauteur": y + 4, "largeur": LARGEUR, "barres": barres_}


def courbe(t: Tableau) -> dict:
    """The monthly trend: points joined by a line, hidden months left out."""
    rangees = list(zip(t.lignes, t.cellules[:-1], strict=True))
    haut, bas, gauche, droite = 24, 170, 40, LARGEUR - 16
    plus_grand = max((c[0].visible or 0 for _, c in rangees), default=0) or 1
    pas = (droite - gauche) / max(len(rangees) - 1, 1)
    points = []
    for i, ((cle, libelle), rangee) in enumerate(rangees):
        valeur = rangee[0].visible
        x = round(gauche + i * pas, 1) if len(rangees) > 1 else (gauche + droite) / 2
        y = (
            None
            if valeur is None
            else round(bas - (bas - haut) * valeur / plus_grand, 1)
        )
        points.append({"cle": cle, "libelle": libelle, "x": x, "y": y})
    trace = " ".join(f"{p['x']},{p['y']}" for p in points if p["y"] is not None)
    return {
        "largeur": LARGEUR,
        "hauteur": 200,
        "haut": haut,
        "bas": bas,
        "gauche": gauche,
        "droite": droite,
        "maximum": plus_grand,
        "points": points,
        "trace": trace,
    }


# --- Page ------------------------------------------------------------------------


def _options():
    catalogue = current_app.extensions["catalogue"]
    mes_structures = portee()
    fiches = sorted(
        (
            f
            for f in catalogue.fiches.values()
            if mes_structures is None or f.structure in mes_structures
        ),
        key=lambda f: f.nom,
    )
    structures = sorted(
        (
            s
            for k, s in catalogue.structures.items()
            if (mes_structures is None or k in mes_structures)
            and any(f.structure == k for f in fiches)
        ),
        key=lambda s: s.nom,
    )
    themes = sorted({t for f in fiches for t in f.thematiques})
    financeurs = sorted({x for f in fiches for x in f.financeurs})
    return {
        "fiches": [(f.id, f.nom) for f in fiches],
        "structures": [(s.id, s.nom) for s in structures],
        "thematiques": [(t, affichage.libelle("thematiques", t)) for t in themes],
        "financeurs": [(x, vocabulaire("financeurs").libelle(x)) for x in financeurs],
    }


@bp.get("/pro/pilotage")
@pilotage_requis
def page():
    p, erreurs = lire_parametres(request.args)
    f, (du, au) = filtres(p, erreurs)
    resultats = calculer(f)
    bilans = pilotage.historique(db(), portee())
    return render_template(
        "pilotage/page.html",
        p=p,
        form={**{n: request.args.get(n, "") for n in PARAMETRES}, "du": du, "au": au}
        | {n: request.args.get(n, "") for n in erreurs},
        erreurs=erreurs,
        r=resultats,
        graphiques={
            "parcours": barres(resultats.tableaux["parcours"]),
            "origines": barres(resultats.tableaux["origines"]),
        },
        tendance=courbe(resultats.tableaux["mois"]),
        bilans=bilans,
        comparaison=comparer(resultats, f, du, bilans),
        options=_options(),
        departement=droits().departement,
        territoire=_territoire_lu(p, erreurs),
        args={n: v for n, v in request.args.items() if n in PARAMETRES},
        P=pilotage,
        entier=entier,
        duree=duree,
        capacite_lue=capacite_lue,
        zip=zip,
    ), (400 if erreurs else 200)


GENRES_DE_LIEUX = {
    "commune": "la commune",
    "epci": "l'intercommunalité",
    "departement": "le département",
}


def _territoire_lu(p: ParametresPilotage, erreurs: dict[str, str]) -> str | None:
    """The place the figures cover, named in full: a code typed (« 246100663 »)
    reads back as « l'intercommunalité Communauté urbaine d'Alençon »."""
    if not p.territoire or "territoire" in erreurs:
        return None
    lieu = trouver_lieu(p.territoire).lieu
    if lieu is None:
        return None
    return f"{GENRES_DE_LIEUX.get(lieu.genre, '')} {lieu.libelle}".strip()


# --- CSV --------------------------------------------------------------------------


def entier(n: int) -> str:
    """« 1 341 »: thousands apart by a narrow no-break space, as on screen."""
    return f"{n:,}".replace(",", "\u202f")


def _nombre(n: float | None, decimales: int = 1) -> str:
    if n is None:
        return ""
    return f"{n:.{decimales}f}".replace(".", ",")


def _heures(jours: float | None) -> float | None:
    return None if jours is None else jours * 24


def duree(jours: float) -> str:
    """A delay said in the unit that keeps it: « 12 minutes », « 5,5 heures »
    (the bounds of the median are whole hours), « 3,5 jours »."""
    heures = jours * 24
    if heures < 1:
        minutes = round(heures * 60)
        if minutes < 1:
            return "moins d'une minute"
        return f"{minutes} minute{'s' if minutes > 1 else ''}"
    if round(heures, 1) < 24:
        return affichage.heures(round(heures, 1))
    j = round(jours, 1)
    return f"{affichage.nombre_fr(j)} jour{'s' if j >= 2 else ''}"


def capacite_lue(x: pilotage.Remplissage) -> str:
    """What the funded places are: « 50 par an », « 50 par an, soit 100 sur
    la période (24 mois) », « 10 par session », « capacité illimitée : places non
    comptées »."""
    if x.capacite is None:
        if x.sans_places == "illimitee":
            return "Capacité illimitée : places non comptées"
        return "Capacité non connue : places non comptées"
    texte = affichage.nombre_fr(x.capacite)
    if x.periode:
        texte += " " + vocabulaire("periodes").libelle(x.periode)
    if x.proratisee:
        places = affichage.nombre_fr(round(x.financees, 1))
        mois = affichage.nombre_fr(round(x.mois, 1))
        texte += f", soit {places} sur la période ({mois} mois)"
    return texte


def _texte_cellule(c: pilotage.Cellule | None, seuil: int):
    """A count as the CSV gives it: the number, « < 5 », « secret » or empty."""
    if c is None:
        return ""
    return c.visible if c.visible is not None else c.texte(seuil)


def lignes_csv(
    cle: str, r: Pilotage, bilans, s: pilotage.Sorties, comparaison=None
) -> list[list]:
    if cle in r.tableaux:
        t = r.tableaux[cle]
        entete = [t.entete, *(c for _, c in t.colonnes_affichees())]
        part = cle in ("origines", "parcours", "sorties", "categories_sortie")
        lignes = [entete + (["Part (%)"] if part else [])]
        for i, ((_, libelle), rangee) in enumerate(
            zip(t.lignes_affichees(), t.cellules, strict=True)
        ):
            valeurs = [_texte_cellule(c, t.seuil) for c in rangee]
            extra = [_nombre(t.part(i))] if part else []
            lignes.append([libelle, *valeurs, *extra])
        return lignes
    if cle in ("remplissage", "remplissage_structures"):
        par_action = cle == "remplissage"
        liste = r.remplissage_fiches if par_action else r.remplissage_structures
        lignes = [
            [
                "Action" if par_action else "Structure",
                *(["Capacité"] if par_action else []),
                "Places financées sur la période",
                "Places prises",
                "Taux de remplissage (%)",
            ]
        ]
        for x in liste:
            lignes.append(
                [
                    x.libelle,
                    *([capacite_lue(x)] if par_action else []),
                    _nombre(x.financees),
                    _texte_cellule(x.prises, r.seuil),
                    _nombre(x.taux()),
                ]
            )
        return lignes
    if cle == "delais":
        d = r.delais
        cache = d.masque
        # Hours: a median of « 1 heure » must not read « 0,0 jour ».
        return [
            [
                "Demandes ayant reçu une réponse",
                "Délai moyen (heures)",
                "La moitié en moins de (heures)",
            ],
            [
                f"< {r.seuil}" if cache else d.nombre,
                "" if cache else _nombre(_heures(d.moyenne_jours)),
                "" if cache else _nombre(_heures(d.mediane_jours), 0),
            ],
        ]
    if cle == "comparaison":
        annee = comparaison.annee or ""
        lignes = [
            [
                "Niveau",
                "Action ou structure",
                "Indicateur",
                "Détail",
                "Cette période",
                "Part (%)",
                f"Publié {annee}".strip(),
                "Part publiée (%)",
            ]
        ]
        for u in comparaison.unites:
            niveau = "Action" if u.niveau == "fiche" else "Toute la structure"
            for x in u.lignes:
                lignes.append(
                    [
                        niveau,
                        u.libelle,
                        x.indicateur,
                        x.detail,
                        _texte_cellule(x.cette_annee, r.seuil),
                        _nombre(x.part_cette_annee),
                        "" if x.publie is None else x.publie,
                        _nombre(x.part_publiee),
                    ]
                )
        return lignes
    if cle == "historique":
        catalogue = current_app.extensions["catalogue"]
        lignes = [
            [
                "Année",
                "Structure",
                "Action",
                "Indicateur",
                "Valeur",
                "Nombre",
                "Part (%)",
            ]
        ]
        for b in bilans:
            structure = catalogue.structures.get(b.structure)
            fiche = catalogue.fiches.get(b.fiche_id)
            debut = [
                b.annee,
                structure.nom if structure else b.structure,
                fiche.nom if fiche else "Toute la structure",
            ]
            for indicateur, valeur, nombre, part in lignes_bilan(b, s):
                lignes.append([*debut, indicateur, valeur, nombre, _nombre(part)])
        return lignes
    raise KeyError(cle)


def lignes_bilan(b: pilotage.Bilan, s: pilotage.Sorties):
    """(indicator, value, count, share %) of one year's results, as shown."""
    for x in pilotage.lignes_publiees(b, s):
        yield x.indicateur, x.detail, x.publie, x.part_publiee


EXPORTS = (
    "origines",
    "parcours",
    "refus",
    "sorties",
    "categories_sortie",
    "ages",
    "mois",
    "remplissage",
    "remplissage_structures",
    "delais",
    "comparaison",
    "historique",
)


@bp.get("/pro/pilotage/<cle>.csv")
@pilotage_requis
def export(cle: str):
    if cle not in EXPORTS:
        return render_template("errors/404.html"), 404
    p, erreurs = lire_parametres(request.args)
    f, (du, au) = filtres(p, erreurs)
    if erreurs:
        return Response("\n".join(erreurs.values()), status=400, mimetype="text/plain")
    r = calculer(f)
    bilans = pilotage.historique(db(), portee()) if cle == "historique" else []
    comparaison = comparer(r, f, du) if cle == "comparaison" else None
    sortie = io.StringIO()
    ecrivain = csv.writer(sortie, delimiter=";")
    for ligne in lignes_csv(cle, r, bilans, sorties(), comparaison):
        ecrivain.writerow([cellule(v) for v in ligne])
    nom = nom_du_csv(cle, p, f, du, au)
    # Excel reads UTF-8 with a BOM.
    return Response(
        "\ufeff" + sortie.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={nom}"},
    )


# A value longer than this is cut and ends with a digest of the whole: every
# filter keeps its place and two filters never share a name (at most 245
# characters in all, under the 255 of most file systems).
VALEUR_MAX = 30


def nom_du_csv(cle: str, p: ParametresPilotage, f: Filtres, du: str, au: str) -> str:
    """A file opened months later still says what it counts: the period and
    each filter are in its name (« pilotage-origines-2026-01-2026-06-territoire-
    61001.csv »), its table stays a plain table."""
    morceaux = ["pilotage", cle, du, au]
    if f.territoire:
        morceaux += ["territoire", f.territoire]
    for nom in ("thematique", "structure", "fiche", "financeur"):
        if valeur := getattr(p, nom):
            morceaux += [nom, valeur]
    return "-".join(map(_morceau_de_nom, morceaux)) + ".csv"


def _morceau_de_nom(texte: str) -> str:
    morceau = re.sub(r"[^a-z0-9]+", "-", sans_accents(texte)).strip("-")
    if len(morceau) <= VALEUR_MAX:
        return morceau
    empreinte = hashlib.blake2b(texte.encode(), digest_size=3).hexdigest()
    return f"{morceau[: VALEUR_MAX - 7].rstrip('-')}-{empreinte}"


# --- JSON API ---------------------------------------------------------------------


class CelluleJson(BaseModel):
    colonne: str
    nombre: int | None = Field(description="null : masqué (petit effectif).")
    affichage: str = Field(description="Ce que montre la page : « 12 », « < 5 »…")
    masque: Literal["primaire", "complementaire"] | None = Field(
        description="primaire : moins que le seuil ; complementaire : caché pour "
        "qu'on ne retrouve pas l'autre par différence avec les totaux."
    )


class LigneJson(BaseModel):
    cle: str
    libelle: str
    cellules: list[CelluleJson]


class ColonneJson(BaseModel):
    cle: str
    libelle: str


class TableauJson(BaseModel):
    cle: str
    titre: str
    seuil: int
    colonnes: list[ColonneJson]
    lignes: list[LigneJson] = Field(description="La dernière ligne est le total.")


class DelaisJson(BaseModel):
    nombre: int | None
    moyenne_jours: float | None
    mediane_jours: float | None
    masque: bool


class RemplissageJson(BaseModel):
    cle: str = Field(description="fiche/session")
    libelle: str
    places_financees: float | None = Field(
        description="Sur la période : une capacité « par an » compte les places "
        "d'une année pour une période d'un an au plus, au prorata des mois au-delà."
    )
    capacite: float | None = Field(
        description="Le nombre que donne la fiche (ou la session) ; null : "
        "places non comptées."
    )
    periode_capacite: str | None = Field(
        description="Sur quoi s'entend la capacité : an, session, simultane, "
        "convention."
    )
    places_prises: int | None
    affichage: str
    taux: float | None = Field(description="En %, null si masqué ou sans capacité.")


class BilanJson(BaseModel):
    annee: int
    structure: str
    fiche: str | None = Field(description="null : toute la structure.")
    nom: str | None
    personnes: int | None
    sexes: dict[str, int]
    tranches_age: dict[str, int]
    sorties: dict[str, int]
    total_sorties: int | None
    parts_sorties: dict[str, float | None] = Field(description="En % des sorties.")
    categories_sorties: dict[str, int]
    encore_suivies: int | None


class CompteJson(BaseModel):
    nombre: int | None = Field(description="null : masqué (petit effectif).")
    affichage: str
    masque: Literal["primaire", "complementaire"] | None


class LigneCompareeJson(BaseModel):
    indicateur: str
    detail: str
    cette_annee: CompteJson | None = Field(
        description="Sur la période choisie ; null : pas compté par le portail."
    )
    part_cette_annee: float | None
    publie: int | None = Field(description="Chiffre publié de l'année de référence.")
    part_publiee: float | None


class UniteCompareeJson(BaseModel):
    cle: str
    niveau: Literal["fiche", "structure"]
    structure: str
    fiche: str | None
    libelle: str
    lignes: list[LigneCompareeJson]


class ComparaisonJson(BaseModel):
    annee: int | None = Field(description="L'année publiée montrée à côté.")
    unites: list[UniteCompareeJson]


class PeriodeJson(BaseModel):
    du: str
    au: str


class PilotageJson(BaseModel):
    """Les chiffres de la page de pilotage (petits effectifs masqués)."""

    periode: PeriodeJson
    seuil: int
    tableaux: dict[str, TableauJson]
    delais_premiere_reponse: DelaisJson
    remplissage: list[RemplissageJson]
    remplissage_structures: list[RemplissageJson] = Field(
        description="Par structure : ses actions qui comptent des places "
        "(cle : la structure ; capacite et periode_capacite : null)."
    )
    comparaison: ComparaisonJson = Field(
        description="Chaque action : la période choisie à côté de l'année publiée."
    )
    historique: list[BilanJson] = Field(
        description="Résultats publiés des années passées, tels qu'importés."
    )


@bp.get("/api/v1/pilotage")
def api():
    """The page's figures as JSON; same filters, same protection."""
    d = droits()
    if d is None:
        return erreur_json(401, "Connexion nécessaire (espace professionnel).")
    if not (d.departement or d.prestataire):
        return erreur_json(403, "Réservé au département et aux prestataires.")
    inconnus = sorted(set(request.args) - set(PARAMETRES))
    p, erreurs = lire_parametres(request.args)
    f, (du, au) = filtres(p, erreurs)
    if inconnus:
        erreurs[inconnus[0]] = f"Paramètre inconnu : « {inconnus[0]} »."
    if erreurs:
        return erreur_json(400, next(iter(erreurs.values())))
    r = calculer(f)
    catalogue = current_app.extensions["catalogue"]
    bilans = pilotage.historique(db(), portee())
    comparaison = comparer(r, f, du, bilans)
    corps = {
        "periode": {"du": du, "au": au},
        "seuil": r.seuil,
        "tableaux": {cle: t.en_dict() for cle, t in r.tableaux.items()},
        "delais_premiere_reponse": {
            "nombre": None if r.delais.masque else r.delais.nombre,
            "moyenne_jours": None if r.delais.masque else r.delais.moyenne_jours,
            "mediane_jours": None if r.delais.masque else r.delais.mediane_jours,
            "masque": r.delais.masque,
        },
        **{
            nom: [
                {
                    "cle": x.cle,
                    "libelle": x.libelle,
                    "places_financees": x.financees,
                    "capacite": x.capacite,
                    "periode_capacite": x.periode,
                    "places_prises": x.prises.visible,
                    "affichage": x.prises.texte(r.seuil),
                    "taux": x.taux(),
                }
                for x in liste
            ]
            for nom, liste in (
                ("remplissage", r.remplissage_fiches),
                ("remplissage_structures", r.remplissage_structures),
            )
        },
        "comparaison": {
            "annee": comparaison.annee,
            "unites": [
                {
                    "cle": u.cle,
                    "niveau": u.niveau,
                    "structure": u.structure,
                    "fiche": u.fiche_id or None,
                    "libelle": u.libelle,
                    "lignes": [
                        {
                            "indicateur": x.indicateur,
                            "detail": x.detail,
                            "cette_annee": None
                            if x.cette_annee is None
                            else {
                                "nombre": x.cette_annee.visible,
                                "affichage": x.cette_annee.texte(r.seuil),
                                "masque": x.cette_annee.masque,
                            },
                            "part_cette_annee": x.part_cette_annee,
                            "publie": x.publie,
                            "part_publiee": x.part_publiee,
                        }
                        for x in u.lignes
                    ],
                }
                for u in comparaison.unites
            ],
        },
        "historique": [
            {
                "annee": b.annee,
                "structure": b.structure,
                "fiche": b.fiche_id or None,
                "nom": (
                    catalogue.fiches[b.fiche_id].nom
                    if b.fiche_id in catalogue.fiches
                    else None
                ),
                "personnes": b.personnes,
                "sexes": b.sexes,
                "tranches_age": b.ages,
                "sorties": b.sorties,
                "total_sorties": b.total_sorties,
                "parts_sorties": {t: b.part_sortie(t) for t in b.sorties},
                "categories_sorties": b.categories(sorties()),
                "encore_suivies": b.encore_suivies,
            }
            for b in bilans
        ],
    }
    return PilotageJson.model_validate(corps).model_dump(mode="json")


# --- Last years' results: upload and command line ---------------------------------


@bp.post("/pro/pilotage/historique")
@pilotage_requis
def importer():
    """The département loads a CSV of last years' results."""
    if not droits().departement:
        return render_template("prescription/interdit.html"), 403
    fichier = request.files.get("fichier")
    if fichier is None or not fichier.filename:
        flash("Choisissez un fichier CSV à importer.")
        return redirect(url_for("pilotage.page"), 303)
    brut = fichier.read(TAILLE_CSV_MAX + 1)
    if len(brut) > TAILLE_CSV_MAX:
        flash("Ce fichier dépasse 2 Mo : découpez-le.")
        return redirect(url_for("pilotage.page"), 303)
    try:
        texte = brut.decode("utf-8")
    except UnicodeDecodeError:
        texte = brut.decode("cp1252", errors="replace")
    rapport = _importer(db(), texte)
    db().commit()
    return render_template("pilotage/import.html", rapport=rapport)


def _importer(session: Session, texte: str) -> pilotage.RapportImport:
    catalogue = current_app.extensions["catalogue"]
    return pilotage.importer_csv(
        session,
        texte,
        catalogue.fiches,
        set(catalogue.structures),
        sorties(),
        datetime.now(UTC),
    )


pilotage_cli = AppGroup("pilotage", help="Chiffres de pilotage du département.")


@pilotage_cli.command("importer")
@click.argument("fichier", type=click.Path(exists=True, dir_okay=False))
def importer_cli(fichier):
    """Charge les résultats des années passées (CSV ; une ligne par chiffre)."""
    with open(fichier, "rb") as f:
        brut = f.read()
    try:
        texte = brut.decode("utf-8")
    except UnicodeDecodeError:
        texte = brut.decode("cp1252", errors="replace")
    with Session(current_app.extensions["db"]) as session:
        rapport = _importer(session, texte)
        session.commit()
    for erreur in rapport.erreurs:
        click.echo(f"{fichier} : {erreur}", err=True)
    click.echo(
        f"{rapport.chargees} chiffre(s) chargé(s), "
        f"{len(rapport.erreurs)} ligne(s) en erreur."
    )
    if rapport.erreurs:
        raise SystemExit(1)


@pilotage_cli.command("recalculer")
def recalculer_cli():
    """Recompte le résumé des demandes (après un chargement en masse)."""
    with Session(current_app.extensions["db"]) as session:
        lignes = pilotage.recalculer(session)
        session.commit()
    click.echo(f"Résumé recompté : {lignes} ligne(s).")


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(pilotage_cli)
