"""The pilotage page, its CSV and its API, as the département and prestataires
use them: the same figures everywhere, small counts never given away."""

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlmodel import Session

from prescription.pilotage import lire_sorties
from tests.prescription.conftest import (
    PERSONNE,
    envoyer_resultats,
    poster,
    se_connecter,
    texte,
)
from tests.prescription.test_pilotage import SORTIES_UDAF_PUBLIEES, demande
from web import affichage

RESULTATS = Path(__file__).resolve().parent.parent / "fixtures/pilotage/resultats.csv"
FINE = "\u202f"  # thousands separator on screen


def lire_csv(reponse) -> list[list[str]]:
    corps = reponse.get_data(as_text=True)
    assert corps.startswith("\ufeff")
    return list(csv.reader(io.StringIO(corps[1:]), delimiter=";"))


def tableau_affiche(page: str, legende: str) -> list[list[str]]:
    """The rows of the table whose caption starts so, as the user reads them."""
    soupe = BeautifulSoup(page, "html.parser")
    [table] = [
        t for t in soupe.find_all("table") if t.caption.get_text().startswith(legende)
    ]
    return [
        [c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])]
        for tr in table.tbody.find_all("tr")
    ]


def groupe_affiche(page: str, legende: str, groupe: str) -> list[list[str]]:
    """The rows under the row-group header starting so, in that table."""
    soupe = BeautifulSoup(page, "html.parser")
    [table] = [
        t for t in soupe.find_all("table") if t.caption.get_text().startswith(legende)
    ]
    [corps] = [
        b
        for b in table.find_all("tbody")
        if b.find("th", scope="rowgroup").get_text(" ", strip=True).startswith(groupe)
    ]
    return [
        [c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])]
        for tr in corps.find_all("tr")[1:]
    ]


def app_libelle(type_: str) -> str:
    return lire_sorties().libelles[type_]


def sans_explications(cellule: str) -> str:
    """A cell's label without the meanings of its acronyms (said once a page)."""
    for sens in affichage.GLOSSAIRE.values():
        cellule = cellule.replace(f" ({sens})", "")
    return " ".join(cellule.replace("( ", "(").replace(" ,", ",").split())


def rangee(api: dict, tableau: str, ligne: str) -> list:
    t = api["tableaux"][tableau]
    [r] = [r for r in t["lignes"] if r["cle"] == ligne]
    return [c["nombre"] for c in r["cellules"]]


@pytest.fixture
def app_1(creer_app_prescription):
    """Every count shown (threshold 1): journeys of one person each."""
    return creer_app_prescription(PILOTAGE_SEUIL=1)


def test_chaque_parcours_est_compte_sous_son_origine(app_1):
    personne = app_1.test_client()
    assert (
        poster(
            personne,
            "/fiches/velos-alencon/inscription",
            {**PERSONNE, "consentement": "oui", "sexe": "femme"},
        ).status_code
        == 303
    )
    referent = se_connecter(
        app_1.test_client(), "referent", prescripteur="referent-rsa"
    )
    assert (
        poster(
            referent,
            "/fiches/velos-alencon/prescrire",
            {
                **PERSONNE,
                "prenom": "Bruno",
                "motif": "Travail à 6 km.",
                "engagement": "oui",
                "sexe": "femme",
            },
        ).status_code
        == 303
    )
    prestataire = se_connecter(
        app_1.test_client(), "prestataire", structure="atelier-orne"
    )
    inscrite = poster(
        prestataire,
        "/pro/fiches/velos-alencon/inscrire",
        {**PERSONNE, "prenom": "Chloé", "sexe": "homme"},
    )
    assert inscrite.status_code == 303
    departement = se_connecter(app_1.test_client(), "departement")
    api = departement.get("/api/v1/pilotage").get_json()
    # Her sex is never asked when she books alone: posted anyway, not kept.
    assert rangee(api, "origines", "auto-prescription") == [0, 0, 1, 1]
    assert rangee(api, "origines", "referent") == [1, 0, 0, 1]
    assert rangee(api, "origines", "prestataire") == [0, 1, 0, 1]
    page = texte(departement.get("/pro/pilotage"))
    assert "Inscription par la personne elle-même : 1" in page
    origines = lire_csv(departement.get("/pro/pilotage/origines.csv"))
    assert origines[0] == [
        "Origine",
        "Femmes",
        "Hommes",
        "Non renseigné",
        "Total",
        "Part (%)",
    ]
    assert origines[-1] == ["Total", "1", "1", "1", "3", "100,0"]

    # The prestataire notes the entry: one request moves one column, once.
    avant = (
        rangee(api, "parcours", "entree")[-1],
        rangee(api, "parcours", "acceptee")[-1],
    )
    pid = inscrite.headers["Location"].rsplit("/", 1)[1]
    assert poster(prestataire, f"/pro/prescriptions/{pid}/entrer").status_code == 303
    api = departement.get("/api/v1/pilotage").get_json()
    apres = (
        rangee(api, "parcours", "entree")[-1],
        rangee(api, "parcours", "acceptee")[-1],
    )
    assert (apres[0] - avant[0], avant[1] - apres[1]) == (1, 1)
    assert rangee(api, "parcours", "total")[-1] == 3
    # The prestataire's own page counts the same, for its structure.
    mien = prestataire.get("/api/v1/pilotage").get_json()
    assert rangee(mien, "parcours", "total")[-1] == 3


def test_un_petit_nombre_est_masque_sur_la_page_le_csv_et_l_api(app_p):
    with Session(app_p.extensions["db"]) as db:
        for _ in range(3):
            demande(db, "velos-alencon", sexe="femme")
        for _ in range(20):
            demande(db, "velos-alencon", sexe="homme")
        for _ in range(9):
            demande(db, "velos-alencon", origine="auto-prescription", sexe="femme")
        for _ in range(12):
            demande(db, "velos-alencon", origine="auto-prescription", sexe="homme")
        db.commit()
    departement = se_connecter(app_p.test_client(), "departement")
    api = departement.get("/api/v1/pilotage").get_json()
    referent = rangee(api, "origines", "referent")
    assert referent[0] is None  # the 3 women
    t = api["tableaux"]["origines"]
    [femmes] = [c for c in t["lignes"][0]["cellules"] if c["colonne"] == "femme"]
    assert (femmes["affichage"], femmes["masque"]) == ("< 5", "primaire")
    # Nothing shown lets a reader subtract it back: in every row and column
    # whose total is shown, the hidden cells are two or more.
    lignes = [[c["nombre"] for c in r["cellules"]] for r in t["lignes"]]
    for r in lignes:
        if r[-1] is not None:
            assert sum(v is None for v in r[:-1]) != 1
    for j in range(len(lignes[0])):
        colonne = [r[j] for r in lignes]
        if colonne[-1] is not None:
            assert sum(v is None for v in colonne[:-1]) != 1
    assert lignes[-1][-1] == 40  # the grand total stays, by bands of 5 (44)

    page = texte(departement.get("/pro/pilotage"))
    assert "< 5" in page
    assert "donnés par tranches de 5 : « 10 » veut dire de 10 à 14" in page
    origines = lire_csv(departement.get("/pro/pilotage/origines.csv"))
    [ligne] = [r for r in origines if r[0] == "Un référent"]
    assert ligne[1] == "< 5" and "3" not in ligne
    assert sum(1 for r in origines for v in r if v == "secret") >= 1


UDAF = "57-udaf-accompagnement-global"


def test_les_resultats_des_semences_sur_la_page_le_csv_et_l_api(app):
    runner = app.test_cli_runner()
    sortie = runner.invoke(args=["pilotage", "importer", str(RESULTATS)])
    assert sortie.exit_code == 0, sortie.output
    assert "43 chiffre(s) chargé(s), 0 ligne(s) en erreur." in sortie.output
    # This year, on the portal: 10 women still followed, 15 men gone to work.
    with Session(app.extensions["db"]) as db:
        for _ in range(10):
            demande(db, UDAF, structure="udaf-moselle", statut="entree", sexe="femme")
        for _ in range(15):
            demande(
                db,
                UDAF,
                structure="udaf-moselle",
                statut="sortie",
                type_sortie="emploi-durable",
                sexe="homme",
            )
        db.commit()
    departement = se_connecter(app.test_client(), "departement")

    api = departement.get("/api/v1/pilotage").get_json()
    bilans = {(b["structure"], b["fiche"]): b for b in api["historique"]}
    ars = bilans[("ars-service-emploi-formation", None)]
    assert (ars["personnes"], ars["sexes"], ars["total_sorties"]) == (
        565,
        {"femme": 132, "homme": 433},
        294,
    )
    assert ars["sorties"] == {
        "emploi": 48,
        "formation": 3,
        "sortie-rsa": 67,
        "relais": 161,
        "abandon": 4,
        "incarceration": 8,
        "deces": 3,
    }
    assert ars["encore_suivies"] == 271
    udaf = bilans[("udaf-moselle", "57-udaf-accompagnement-global")]
    for type_, (nombre, part) in SORTIES_UDAF_PUBLIEES.items():
        assert udaf["sorties"][type_] == nombre
        assert udaf["parts_sorties"][type_] == pytest.approx(part, abs=0.1)

    page = departement.get("/pro/pilotage").get_data(as_text=True)
    # Each action's row: this period beside 2017, in the same table.
    par_action = tableau_affiche(page, "Résultats par action : cette période et 2017")
    assert [
        "Service Emploi Formation de l'ARS (toute la structure)",
        *("0", "565", "0", "132", "0", "433", "0", "294", "0", "271"),
    ] in par_action
    udaf_ligne = next(r for r in par_action if r[0].startswith("Accompagnement global"))
    assert udaf_ligne[1:] == [
        *("25", f"3{FINE}987", "10", f"1{FINE}842", "15", f"2{FINE}145"),
        *("15", f"2{FINE}830", "10", "–"),
    ]
    detail = "Le détail : cette période et 2017"
    ars_page = groupe_affiche(page, detail, "Service Emploi Formation de l'ARS")
    for ligne in (
        ["Personnes accompagnées", "", "0", "", "565", ""],
        ["Personnes accompagnées", "Femme", "0", "", "132", "23,4 %"],
        ["Personnes accompagnées", "Homme", "0", "", "433", "76,6 %"],
        ["Personnes sorties", "", "0", "", "294", ""],
        [
            "Sorties",
            "Accès à une activité professionnelle (sans précision du contrat)",
            "0",
            "",
            "48",
            "16,3 %",
        ],
        ["Sorties", "Formation qualifiante", "0", "", "3", "1,0 %"],
        [
            "Sorties",
            "Sortie du RSA avant la fin de l'accompagnement",
            "0",
            "",
            "67",
            "22,8 %",
        ],
        ["Sorties", "Relais vers un autre accompagnement", "0", "", "161", "54,8 %"],
        ["Sorties", "Abandon", "0", "", "4", "1,4 %"],
        ["Sorties", "Incarcération", "0", "", "8", "2,7 %"],
        ["Sorties", "Décès", "0", "", "3", "1,0 %"],
        ["Toujours suivies", "", "0", "", "271", ""],
    ):
        assert ligne in ars_page, ligne
    udaf_page = groupe_affiche(page, detail, "Accompagnement global")
    affiches = {r[1]: (r[4], r[5]) for r in udaf_page if r[0] == "Sorties"}
    assert affiches["Nouvel accompagnement (France Travail, autre dispositif)"] == (
        f"1{FINE}341",
        "47,4 %",
    )
    # This year's exits beside, in the same rows.
    assert [
        "Sorties",
        app_libelle("emploi-durable"),
        "15",
        "100,0 %",
        "–",
        "",
    ] in [[r[0], sans_explications(r[1]), *r[2:]] for r in udaf_page]
    for libelle, (nombre, part) in affiches.items():
        if nombre == "–":
            continue
        [(type_, (attendu, publie))] = [
            (t, v)
            for t, v in SORTIES_UDAF_PUBLIEES.items()
            if app_libelle(t) == libelle
        ]
        assert nombre.replace(FINE, "") == str(attendu)
        # Shown to one decimal: within 0.1 point of the published share.
        assert round(abs(float(part.rstrip(" %").replace(",", ".")) - publie), 6) <= 0.1

    comparaison = lire_csv(departement.get("/pro/pilotage/comparaison.csv"))
    assert comparaison[0][4:] == [
        "Cette période",
        "Part (%)",
        "Publié 2017",
        "Part publiée (%)",
    ]
    assert [
        "Toute la structure",
        "Service Emploi Formation de l'ARS",
        "Sorties",
        "Incarcération",
        "0",
        "",
        "8",
        "2,7",
    ] in comparaison
    unites = {u["cle"]: u for u in api["comparaison"]["unites"]}
    assert api["comparaison"]["annee"] == 2017
    [personnes] = [
        x
        for x in unites[UDAF]["lignes"]
        if (x["indicateur"], x["detail"]) == ("Personnes accompagnées", "")
    ]
    assert (personnes["cette_annee"]["nombre"], personnes["publie"]) == (25, 3987)

    historique = lire_csv(departement.get("/pro/pilotage/historique.csv"))
    udaf_csv = {
        r[4]: (r[5], r[6])
        for r in historique
        if r[1].startswith("Union départementale") and r[3] == "Sorties"
    }
    for type_, (nombre, publie) in SORTIES_UDAF_PUBLIEES.items():
        ecrit, part = udaf_csv[app_libelle(type_)]
        assert ecrit == str(nombre)
        assert round(abs(float(part.replace(",", ".")) - publie), 6) <= 0.1
    ars_csv = [r for r in historique if r[1] == "Service Emploi Formation de l'ARS"]
    assert ["Personnes accompagnées", "", "565", ""] in [r[3:] for r in ars_csv]
    assert ["Personnes sorties", "", "294", ""] in [r[3:] for r in ars_csv]
    assert ["Sorties", "Incarcération", "8", "2,7"] in [r[3:] for r in ars_csv]


def test_le_departement_importe_un_csv_et_voit_les_lignes_fausses(app):
    departement = se_connecter(app.test_client(), "departement")
    contenu = (
        b"annee;structure;fiche;indicateur;valeur;nombre\n"
        b"2017;udaf-moselle;;personnes;;3987\n"
        b"2017;udaf-moselle;;sexe;femme;-12\n"
        b'2017;udaf-moselle;;tranche_age;=HYPERLINK("x");7\n'
    )
    reponse = envoyer_resultats(departement, contenu)
    assert reponse.status_code == 200
    page = texte(reponse)
    assert "2 chiffres chargés, 1 ligne en erreur" in page
    assert (
        "ligne 3, colonne « nombre » : « -12 » n'est pas un nombre entier positif."
        in page
    )
    historique = lire_csv(departement.get("/pro/pilotage/historique.csv"))
    # A cell a spreadsheet would run is written as text.
    assert ["Tranche d'âge", '\'=HYPERLINK("x")', "7", "100,0"] in [
        r[3:] for r in historique
    ]
    prestataire = se_connecter(
        app.test_client(), "prestataire", structure="udaf-moselle"
    )
    refuse = envoyer_resultats(prestataire, contenu, "r.csv")
    assert refuse.status_code == 403


def test_un_filtre_faux_est_dit_en_francais_et_les_autres_restent(app_p):
    departement = se_connecter(app_p.test_client(), "departement")
    reponse = departement.get(
        "/pro/pilotage?du=2026-13&territoire=Alençon&fiche=velos-alencon"
    )
    assert reponse.status_code == 400
    page = texte(reponse)
    assert "« Du » : écrivez un mois sous la forme AAAA-MM" in page
    assert 'value="2026-13"' in page  # what was typed stays
    assert 'value="Alençon"' in page
    assert '<option value="velos-alencon" selected>' in page
    api = departement.get("/api/v1/pilotage?au=demain")
    assert api.status_code == 400
    assert api.get_json()["erreur"].startswith("« Au » : écrivez un mois")
    assert departement.get("/api/v1/pilotage?seuil=1").status_code == 400
    lointain = departement.get("/pro/pilotage?du=0001-01")
    assert lointain.status_code == 400
    assert (
        "« Du » : 0001-01 est hors des mois comptés ; choisissez un mois de 2000-01 "
        "à 2100-12." in texte(lointain)
    )
    inconnu = departement.get("/pro/pilotage?territoire=Zzzzzz")
    assert "Lieu introuvable : « Zzzzzz »" in texte(inconnu)


def test_la_periode_et_le_territoire_filtrent_les_chiffres(app_1):
    from datetime import UTC, datetime

    with Session(app_1.extensions["db"]) as db:
        for _ in range(6):
            demande(
                db,
                "velos-alencon",
                le=datetime(2026, 2, 10, tzinfo=UTC),
                commune_code="61001",
            )
        for _ in range(7):
            demande(
                db,
                "velos-alencon",
                le=datetime(2026, 3, 10, tzinfo=UTC),
                commune_code="61006",
            )
        db.commit()
    departement = se_connecter(app_1.test_client(), "departement")

    def total(**filtres):
        api = departement.get("/api/v1/pilotage", query_string=filtres).get_json()
        return rangee(api, "origines", "total")[-1]

    assert total(du="2026-01", au="2026-12") == 13
    assert total(du="2026-03", au="2026-03") == 7
    assert total(du="2026-01", au="2026-12", territoire="Alençon") == 6
    mois = departement.get(
        "/api/v1/pilotage", query_string={"du": "2026-01", "au": "2026-12"}
    ).get_json()["tableaux"]["mois"]
    assert [r["libelle"] for r in mois["lignes"]] == [
        "février 2026",
        "mars 2026",
        "Total",
    ]
    page = texte(departement.get("/pro/pilotage?du=2026-01&au=2026-12"))
    assert '<polyline class="graphique__ligne"' in page


def test_les_anciens_indicateurs_menent_au_pilotage(app_p):
    departement = se_connecter(app_p.test_client(), "departement")
    reponse = departement.get("/pro/indicateurs")
    assert reponse.status_code == 301
    assert reponse.headers["Location"] == "/pro/pilotage"


def test_l_api_suit_son_document_openapi(app_p):
    from jsonschema import Draft202012Validator

    from web.openapi import document_openapi

    document = document_openapi()
    operation = document["paths"]["/api/v1/pilotage"]["get"]
    assert [p["name"] for p in operation["parameters"]] == [
        "du",
        "au",
        "territoire",
        "thematique",
        "structure",
        "fiche",
        "financeur",
    ]
    with Session(app_p.extensions["db"]) as db:
        for _ in range(7):
            demande(db, "velos-alencon", sexe="femme")
        demande(db, "velos-alencon", statut="refusee", motif_refus="complet")
        db.commit()
    departement = se_connecter(app_p.test_client(), "departement")
    corps = departement.get("/api/v1/pilotage").get_json()
    racine = {"$ref": "#/components/schemas/PilotageJson", **document}
    Draft202012Validator(racine).validate(corps)
    anonyme = app_p.test_client().get("/api/v1/pilotage")
    assert anonyme.status_code == 401
    assert anonyme.get_json() == {
        "erreur": "Connexion nécessaire (espace professionnel).",
        "statut": 401,
    }


def possibles(vue: str, autres: list[str], seuil: int, bande: int) -> list[int]:
    """What a reader deduces of a small group (1 to seuil-1 people) from one
    view minus neighbouring ones, each published number read as the band it
    stands for (README: threshold 5, « 10 » is 10 to 14), « < 5 » as 1 to 4,
    0 as 0. Written apart from the code it checks."""

    def lire(texte: str) -> tuple[int, int]:
        if texte == f"< {seuil}":
            return 1, seuil - 1
        n = int(texte.replace(FINE, ""))
        return (0, 0) if n == 0 else (n, n + bande - 1)

    bas, haut = lire(vue)
    for autre in autres:
        b, h = lire(autre)
        bas, haut = bas - h, haut - b
    return [n for n in range(1, seuil) if bas <= n <= haut]


# Three neighbouring views that differ by the same 3 people (garage, March,
# Alençon) from 12 others (bikes, February, Condé-sur-Sarthe, in the same
# intercommunalité): each difference would give them back.
ATTAQUES = {
    "thème A + B moins thème A": (
        {},
        [{"thematique": "mobilite--acceder-a-un-vehicule"}],
        {"thematique": "mobilite--entretenir-reparer-son-vehicule"},
    ),
    "une période moins la même sans son dernier mois": (
        {"du": "2026-02", "au": "2026-03"},
        [{"du": "2026-02", "au": "2026-02"}],
        {"du": "2026-03", "au": "2026-03"},
    ),
    "l'intercommunalité moins ses autres communes": (
        {"territoire": "246100663"},
        [{"territoire": "Condé-sur-Sarthe"}],
        {"territoire": "Alençon"},
    ),
}


@pytest.mark.parametrize("attaque", ATTAQUES)
def test_deux_filtres_voisins_ne_redonnent_pas_un_petit_groupe(
    attaque, creer_app_prescription
):
    from datetime import UTC, datetime

    vue, voisines, cachee = ATTAQUES[attaque]
    # Two apps on one database: every count exact (threshold 1), and as
    # published (threshold 5).
    exacte, protegee = (
        creer_app_prescription(PILOTAGE_SEUIL=1),
        creer_app_prescription(),
    )
    with Session(protegee.extensions["db"]) as db:
        for i in range(12):
            demande(
                db,
                "velos-alencon",
                le=datetime(2026, 2, 10, tzinfo=UTC),
                commune_code="61117",
                sexe=("femme", "homme")[i % 2],
            )
        for _ in range(3):
            demande(
                db,
                "garage-evry",
                structure="garage-essonne",
                le=datetime(2026, 3, 10, tzinfo=UTC),
                commune_code="61001",
                sexe="femme",
            )
        db.commit()

    def publie(app) -> tuple[str, list[str], str]:
        departement = se_connecter(app.test_client(), "departement")

        def total(filtres: dict) -> str:
            filtres = {"du": "2026-01", "au": "2026-12", **filtres}
            api = departement.get("/api/v1/pilotage", query_string=filtres)
            assert api.status_code == 200, api.get_json()
            [ligne] = [
                r
                for r in api.get_json()["tableaux"]["origines"]["lignes"]
                if r["cle"] == "total"
            ]
            return ligne["cellules"][-1]["affichage"]

        return total(vue), [total(v) for v in voisines], total(cachee)

    # Exact counts: the subtraction gives the 3 back.
    vue_, voisines_, cachee_ = publie(exacte)
    assert (vue_, voisines_, cachee_) == ("15", ["12"], "3")
    assert possibles(vue_, voisines_, seuil=5, bande=1) == [3]

    # As published: the group's own view says « < 5 », and the two
    # neighbours, 15 and 12, read « 15 » and « 10 »: 1 to 4 all fit.
    vue_, voisines_, cachee_ = publie(protegee)
    assert cachee_ == "< 5"
    assert (vue_, voisines_) == ("15", ["10"])
    assert possibles(vue_, voisines_, seuil=5, bande=5) == [1, 2, 3, 4]


def test_aucune_difference_de_deux_nombres_publies_ne_fixe_un_petit_groupe():
    """Whatever the sizes: a view, and its neighbour without the group."""
    from prescription.pilotage import publie as publier

    def texte(n: int) -> str:
        return "< 5" if 0 < n < 5 else str(publier(n, 5))

    for autres in range(0, 60):
        for groupe in range(1, 5):
            trouves = possibles(texte(autres + groupe), [texte(autres)], 5, 5)
            assert groupe in trouves and len(trouves) >= 2, (autres, groupe)


def test_un_territoire_tape_en_code_est_nomme_en_toutes_lettres(app_p):
    # L'agent colle le code d'une intercommunalité : la page dit laquelle.
    departement = se_connecter(app_p.test_client(), "departement")
    page = texte(departement.get("/pro/pilotage?territoire=246100663"))
    assert (
        "Personnes comptées : celles qui habitent l'intercommunalité "
        "Communauté urbaine d'Alençon." in page
    )
    assert 'value="246100663"' in page  # what was typed stays
    commune = texte(departement.get("/pro/pilotage?territoire=61001"))
    assert "celles qui habitent la commune Alençon (61000)." in commune
    assert "Personnes comptées" not in texte(departement.get("/pro/pilotage"))


def test_le_nom_du_csv_dit_la_periode_et_les_filtres(app_p):
    # Ouvert des mois plus tard, le fichier dit encore ce qu'il compte.
    departement = se_connecter(app_p.test_client(), "departement")
    fichier = departement.get(
        "/pro/pilotage/origines.csv?du=2026-01&au=2026-06&territoire=Alençon"
        "&structure=atelier-orne&thematique=mobilite--acceder-a-un-vehicule"
    )
    assert fichier.status_code == 200
    assert fichier.headers["Content-Disposition"] == (
        "attachment; filename=pilotage-origines-2026-01-2026-06-territoire-61001"
        "-thematique-mobilite-acceder-a-un-vehicule-structure-atelier-orne.csv"
    )
    # Long values are cut and signed: every filter keeps its place, two
    # themes that begin alike never share a name.
    noms = []
    for theme in (
        "accompagnement-aux-demarches-administratives",
        "accompagnement-pour-lacces-aux-droits",
    ):
        fichier = departement.get(
            "/pro/pilotage/remplissage_structures.csv?territoire=Alençon"
            f"&thematique=difficultes-administratives-ou-juridiques--{theme}"
            "&structure=atelier-orne&financeur=cd61"
        )
        assert fichier.status_code == 200
        noms.append(fichier.headers["Content-Disposition"].split("filename=")[1])
    assert noms[0] != noms[1]
    for nom in noms:
        assert len(nom) <= 255 and nom.endswith("-financeur-cd61.csv")
        assert "-territoire-61001-thematique-difficultes-administrat" in nom
    # Digits of another script are not a month.
    assert departement.get("/pro/pilotage/origines.csv?du=٢٠٢٦-٠١").status_code == 400
    aujourd_hui = date.today()
    sans_filtre = departement.get("/pro/pilotage/sorties.csv")
    assert sans_filtre.headers["Content-Disposition"] == (
        f"attachment; filename=pilotage-sorties-{aujourd_hui.year}-01-"
        f"{aujourd_hui.year}-{aujourd_hui.month:02d}.csv"
    )


def test_une_capacite_par_an_suit_la_longueur_de_la_periode(app_1):
    # The garage funds 50 people a year; 5 entered in December 2026.
    from datetime import UTC, datetime

    with Session(app_1.extensions["db"]) as db:
        for _ in range(5):
            demande(
                db,
                "garage-evry",
                statut="entree",
                le=datetime(2026, 12, 10, tzinfo=UTC),
                structure="garage-essonne",
            )
        db.commit()
    departement = se_connecter(app_1.test_client(), "departement")

    def garage(du, au):
        lignes = lire_csv(
            departement.get(f"/pro/pilotage/remplissage.csv?du={du}&au={au}")
        )
        return [x for x in lignes if x[0] == "Garage solidaire"]

    assert lire_csv(departement.get("/pro/pilotage/remplissage.csv"))[0] == [
        "Action",
        "Capacité",
        "Places financées sur la période",
        "Places prises",
        "Taux de remplissage (%)",
    ]
    # One month, a year: the year's places (five people entered in a
    # month hold their places for months, not a twelfth of the year's).
    assert garage("2026-12", "2026-12") == [
        ["Garage solidaire", "50 par an", "50,0", "5", "10,0"]
    ]
    assert garage("2026-01", "2026-12")[0][2:] == ["50,0", "5", "10,0"]
    # Two years: twice as many; it used to say the same 50 and 10 %.
    assert garage("2025-01", "2026-12")[0][1:] == [
        "50 par an, soit 100 sur la période (24 mois)",
        "100,0",
        "5",
        "5,0",
    ]
    page = texte(departement.get("/pro/pilotage?du=2025-01&au=2026-12"))
    [ligne] = [
        x
        for x in tableau_affiche(page, "Remplissage par action")
        if x[0] == "Garage solidaire"
    ]
    assert ligne[1:] == [
        "50 par an, soit 100 sur la période (24 mois)",
        "100",
        "5",
        "5 %",
    ]
    assert "au-delà au prorata des mois" in page


def test_une_capacite_par_session_ou_simultanee_reste_telle_quelle(app_1):
    # A session's own places are for that session, whatever the period.
    from datetime import UTC, datetime

    with Session(app_1.extensions["db"]) as db:
        demande(db, "cv-sessions-alencon", le=datetime(2026, 12, 10, tzinfo=UTC))
        demande(
            db,
            "cv-sessions-alencon",
            le=datetime(2026, 12, 10, tzinfo=UTC),
            session="2099-03-01",
        )
        db.commit()
    departement = se_connecter(app_1.test_client(), "departement")
    lignes = lire_csv(
        departement.get("/pro/pilotage/remplissage.csv?du=2026-12&au=2026-12")
    )
    assert [x[:3] for x in lignes[1:]] == [
        ["Atelier curriculum vitae", "10 par session", "10,0"],
        ["Atelier curriculum vitae (session du 01/03/2099)", "10 par session", "10,0"],
    ]


@pytest.fixture
def app_permanence(creer_app_prescription, tmp_path):
    """The catalogue, plus an action of the garage that counts no places."""
    import shutil

    from tests.prescription.conftest import PRESCRIPTION

    fiches = tmp_path / "fiches"
    shutil.copytree(PRESCRIPTION / "fiches", fiches)
    garage = (fiches / "garage-evry.yaml").read_text(encoding="utf-8")
    (fiches / "permanence-evry.yaml").write_text(
        garage.replace("id: garage-evry", "id: permanence-evry")
        .replace("nom: Garage solidaire", "nom: Permanence mobilité")
        .replace(
            "capacite: {nombre: 50, unite: beneficiaires, periode: an}",
            "capacite: {illimitee: true}",
        ),
        encoding="utf-8",
    )
    return creer_app_prescription(FICHES_DIR=str(fiches), PILOTAGE_SEUIL=1)


def test_une_action_sans_places_comptees_n_entre_pas_dans_le_taux_de_sa_structure(
    app_permanence,
):
    # The garage's funded action: 5 people on 50 a year. Somebody books
    # herself into its permanence, which counts no places.
    from datetime import UTC, datetime

    with Session(app_permanence.extensions["db"]) as db:
        for _ in range(5):
            demande(
                db,
                "garage-evry",
                statut="entree",
                le=datetime(2026, 3, 10, tzinfo=UTC),
                structure="garage-essonne",
            )
        demande(
            db,
            "permanence-evry",
            origine="auto-prescription",
            le=datetime(2026, 3, 12, tzinfo=UTC),
            structure="garage-essonne",
        )
        db.commit()
    departement = se_connecter(app_permanence.test_client(), "departement")
    periode = "du=2026-01&au=2026-12"
    structures = lire_csv(
        departement.get(f"/pro/pilotage/remplissage_structures.csv?{periode}")
    )
    assert structures == [
        [
            "Structure",
            "Places financées sur la période",
            "Places prises",
            "Taux de remplissage (%)",
        ],
        ["Garage solidaire de l'Essonne", "50,0", "5", "10,0"],
    ]
    actions = lire_csv(departement.get(f"/pro/pilotage/remplissage.csv?{periode}"))
    assert actions[1:] == [
        [
            "Garage solidaire",
            "50 par an",
            "50,0",
            "5",
            "10,0",
        ],
        [
            "Permanence mobilité",
            "Capacité illimitée : places non comptées",
            "",
            "1",
            "",
        ],
    ]
    page = texte(departement.get(f"/pro/pilotage?{periode}"))
    assert tableau_affiche(page, "Remplissage par structure") == [
        ["Garage solidaire de l'Essonne", "50", "5", "10 %"]
    ]
    # The API has it too, as it has every table of the page.
    api = departement.get(f"/api/v1/pilotage?{periode}").get_json()
    [garage] = api["remplissage_structures"]
    assert (garage["libelle"], garage["places_financees"]) == (
        "Garage solidaire de l'Essonne",
        50.0,
    )
    assert (garage["places_prises"], garage["taux"]) == (5, 10.0)


def test_les_delais_du_csv_disent_ce_que_dit_l_ecran(app_1):
    # Six requests answered ten minutes after they came.
    from datetime import UTC, datetime, timedelta

    from prescription.modeles import Transition

    debut = datetime(2026, 3, 2, 9, tzinfo=UTC)
    with Session(app_1.extensions["db"]) as db:
        for _ in range(6):
            p = demande(db, "velos-alencon", statut="acceptee", le=debut)
            db.add(
                Transition(
                    prescription_id=p.id,
                    de="demandee",
                    vers="acceptee",
                    action="accepter",
                    par="t",
                    le=debut + timedelta(minutes=10),
                )
            )
        db.commit()
    departement = se_connecter(app_1.test_client(), "departement")
    page = texte(departement.get("/pro/pilotage?du=2026-03&au=2026-03"))
    assert (
        "6 demandes ont reçu une réponse : en moyenne après 10 minutes ; "
        "la moitié en moins de 1 heure."
    ) in page
    assert "0,0 jour" not in page
    assert lire_csv(
        departement.get("/pro/pilotage/delais.csv?du=2026-03&au=2026-03")
    ) == [
        [
            "Demandes ayant reçu une réponse",
            "Délai moyen (heures)",
            "La moitié en moins de (heures)",
        ],
        ["6", "0,2", "1"],
    ]
