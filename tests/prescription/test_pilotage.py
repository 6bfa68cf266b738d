"""The département's pilotage figures: counted in the database, protected.

A small count never shows, and never comes back from the totals; exits are
classified as the département's file says; last years' results load from
a CSV built from the seeds' own figures.
"""

from datetime import UTC, date, datetime, timedelta
from itertools import product
from pathlib import Path

import pytest
from sqlmodel import Session, select

from catalogue import heure, places
from prescription import pilotage
from prescription.modeles import Beneficiaire, Prescription, Transition
from prescription.pilotage import (
    COMPLEMENTAIRE,
    PRIMAIRE,
    TOTAL,
    ErreurSorties,
    Filtres,
    lire_sorties,
    tableau,
)
from prescription.workflow import TYPES_SORTIE
from tests.prescription.conftest import figures

RESULTATS = Path(__file__).resolve().parent.parent / "fixtures/pilotage/resultats.csv"
SEXES = pilotage.COLONNES_SEXE


# The UDAF de Moselle's exits as published in seed 002: (count, percentage).
SORTIES_UDAF_PUBLIEES = {
    "nouvel-accompagnement": (1341, 47.3),
    "cdi": (156, 5.5),
    "cdd-plus-6-mois": (427, 15.1),
    "cdd-moins-6-mois": (324, 11.4),
    "creation-entreprise": (15, 0.5),
    "formation": (145, 5.1),
    "retrait-marche-travail": (33, 1.2),
    "autre": (389, 13.7),
}


def recalculables(t: pilotage.Tableau) -> list[tuple[int, int]]:
    """Hidden cells a reader finds from the shown sums and « < seuil ».

    For each shown sum, every hidden term can take each value its label
    allows (1..seuil-1 for « < seuil », anything for « secret ») only if the
    others can make up the difference: a term left with one possible value
    is recomputed. Written apart from the code it checks.
    """
    trouvees = []
    for termes, somme in pilotage._relations(t):
        total = t.cellules[somme[0]][somme[1]]
        cachees = [p for p in termes if t.cellules[p[0]][p[1]].masque]
        if total.masque or not cachees:
            continue
        reste = total.valeur - sum(
            t.cellules[i][j].valeur for i, j in termes if (i, j) not in cachees
        )
        for p in cachees:
            autres = [q for q in cachees if q != p]
            mini = sum(_bornes(t, q)[0] for q in autres)
            maxi = sum(_bornes(t, q)[1] for q in autres)
            bas, haut = _bornes(t, p)
            possibles = [v for v in range(bas, haut + 1) if mini <= reste - v <= maxi]
            if len(possibles) <= 1:
                trouvees.append(p)
    return trouvees


def _bornes(t, p) -> tuple[int, int]:
    """What a reader knows of a hidden cell: « < 5 » is 1 to 4; « secret » is
    5 or more (a smaller one would read « < 5 »)."""
    c = t.cellules[p[0]][p[1]]
    if c.masque == PRIMAIRE:
        return 1, t.seuil - 1
    return t.seuil, 10_000


def test_un_petit_nombre_ne_se_voit_pas_ni_ne_se_retrouve_par_les_totaux():
    # 3 women came through the prestataire: too few to show.
    comptes = {
        ("referent", "femme"): 40,
        ("referent", "homme"): 35,
        ("referent", "non-renseigne"): 12,
        ("prestataire", "femme"): 3,
        ("prestataire", "homme"): 20,
        ("prestataire", "non-renseigne"): 9,
        ("auto-prescription", "femme"): 15,
        ("auto-prescription", "homme"): 18,
        ("auto-prescription", "non-renseigne"): 7,
    }
    lignes = [("referent", "R"), ("prestataire", "P"), ("auto-prescription", "A")]
    t = tableau("origines", "Origines", "Origine", lignes, SEXES, comptes)
    assert t.cellules[1][0].texte(5) == "< 5"
    assert t.cellules[1][0].visible is None
    # Its row and its column each hide another cell with it.
    assert sum(1 for c in t.cellules[1][:3] if c.masque) >= 2
    assert sum(1 for r in t.cellules[:3] if r[0].masque) >= 2
    assert all(c.masque != PRIMAIRE for r in t.cellules for c in r if c.valeur >= 5)
    assert recalculables(t) == []
    # Totals still tell the truth, by bands of 5 (see publie): 159 reads 155.
    assert t.total.texte(5) == "155"


@pytest.mark.parametrize("graine", range(40))
def test_aucune_cellule_cachee_ne_se_recalcule_quelles_que_soient_les_valeurs(graine):
    import random

    hasard = random.Random(graine)
    lignes = [(f"l{i}", f"L{i}") for i in range(hasard.randint(1, 6))]
    comptes = {
        (ligne, c): hasard.choice([0, 1, 2, 3, 4, 5, 6, 9, 20, 70])
        for (ligne, _), (c, _) in product(lignes, SEXES)
    }
    t = tableau("t", "T", "L", lignes, SEXES, comptes, seuil=5)
    assert all(c.masque for r in t.cellules for c in r if 0 < c.valeur < 5)
    assert recalculables(t) == []


def test_le_seuil_se_regle():
    comptes = {("a", "n"): 8, ("b", "n"): 30}
    t = tableau("t", "T", "L", [("a", "A"), ("b", "B")], [("n", "N")], comptes, 10)
    assert t.cellules[0][0].texte(10) == "< 10"
    # One column: the other row is hidden too, so the total gives nothing;
    # it reads by bands of 10: 38 is « 30 ».
    assert t.cellules[1][0].masque == COMPLEMENTAIRE
    assert t.total.texte(10) == "30"


def test_chaque_type_de_sortie_du_portail_est_classe_par_le_departement():
    sorties = lire_sorties()
    assert set(TYPES_SORTIE) <= set(sorties.categorie)
    assert set(sorties.categorie.values()) <= set(pilotage.CATEGORIES)
    assert sorties.categorie["emploi-durable"] == "emploi-durable"
    assert sorties.libelles["incarceration"] == "Incarcération"


def test_un_fichier_de_sorties_mal_rempli_est_refuse_en_francais(tmp_path):
    mauvais = tmp_path / "sorties.yaml"
    mauvais.write_text("emploi-durable: {categorie: super}\n", encoding="utf-8")
    with pytest.raises(ErreurSorties, match="catégorie « super » inconnue"):
        lire_sorties(mauvais)
    incomplet = tmp_path / "incomplet.yaml"
    incomplet.write_text("emploi-durable: {categorie: emploi-durable}\n")
    with pytest.raises(ErreurSorties, match="« emploi-transition » du portail"):
        lire_sorties(incomplet)


# --- Counted in the database ---------------------------------------------------


def demande(db, fiche, origine="referent", statut="demandee", le=None, **autres):
    """A request as the journeys leave it, with its first log line."""
    le = le or places.maintenant_utc()
    b = Beneficiaire(
        prenom="P",
        nom="N",
        sexe=autres.pop("sexe", "non-renseigne"),
        tranche_age=autres.pop("tranche_age", "non-renseigne"),
        commune_code=autres.pop("commune_code", None),
    )
    db.add(b)
    db.flush()
    p = Prescription(
        fiche_id=fiche,
        structure_catalogue=autres.pop("structure", "atelier-orne"),
        beneficiaire_id=b.id,
        origine=origine,
        statut=statut,
        cree_le=le,
        maj_le=le,
        **autres,
    )
    db.add(p)
    db.flush()
    db.add(Transition(prescription_id=p.id, vers=statut, action="x", par="t", le=le))
    return p


def ligne(t: pilotage.Tableau, cle: str) -> list[int]:
    i = [c for c, _ in t.lignes_affichees()].index(cle)
    return [c.valeur for c in t.cellules[i]]


def test_sorties_refus_et_delais_comptes_pour_la_periode(app_p):
    debut = datetime(2026, 3, 1, tzinfo=UTC)
    with Session(app_p.extensions["db"]) as db:
        for i in range(6):
            p = demande(db, "velos-alencon", statut="sortie", le=debut, sexe="femme")
            p.type_sortie = "emploi-durable" if i < 4 else "relais"
            # Answered after 1, 2, … 6 days: mean 3.5; half in less than 4.
            db.add(
                Transition(
                    prescription_id=p.id,
                    de="demandee",
                    vers="acceptee",
                    action="accepter",
                    par="t",
                    le=debut + timedelta(days=i + 1),
                )
            )
        for _ in range(7):
            demande(
                db,
                "velos-alencon",
                statut="refusee",
                le=debut,
                motif_refus="complet",
                sexe="homme",
            )
        # Outside the period: not counted.
        demande(db, "velos-alencon", le=datetime(2025, 1, 5, tzinfo=UTC))
        db.commit()
    # The year 2026: its 10 places « par an », whole.
    annee = Filtres(
        debut=heure.debut_du_mois(2026, 1), fin=heure.debut_du_mois(2027, 1)
    )
    f = figures(app_p, annee, seuil=3)
    assert f.tableaux["parcours"].total.valeur == 13
    assert ligne(f.tableaux["refus"], "complet") == [0, 7, 0, 7]
    assert ligne(f.tableaux["sorties"], "emploi-durable") == [4, 0, 0, 4]
    assert ligne(f.tableaux["categories_sortie"], "emploi-durable") == [4, 0, 0, 4]
    assert ligne(f.tableaux["categories_sortie"], "sortie-positive") == [2, 0, 0, 2]
    assert f.delais.nombre == 6
    assert f.delais.moyenne_jours == pytest.approx(3.5)
    assert f.delais.mediane_jours == 4
    assert [cle for cle, _ in f.mois] == ["2026-03"]
    # 6 exits + 0 held places on 10 funded: 60 %.
    velos = next(r for r in f.remplissage_fiches if r.cle.startswith("velos"))
    assert (velos.financees, velos.prises.valeur, velos.taux()) == (10, 6, 60.0)


def test_une_periode_ouverte_va_du_premier_mois_compte_a_ce_mois_ci():
    # A yearly capacity counts as many years' places as the figures cover.
    en_2026 = Filtres(debut=heure.debut_du_mois(2026, 1))
    assert pilotage.mois_de_la_periode(en_2026, None, date(2026, 6, 15)) == 6
    assert pilotage.mois_de_la_periode(Filtres(), "2026-03", date(2026, 12, 5)) == 10
    assert pilotage.mois_de_la_periode(Filtres(), None) is None
    # Bounds inside a month: months of average length.
    quinze_jours = Filtres(
        debut=datetime(2026, 3, 2, tzinfo=UTC), fin=datetime(2026, 3, 17, tzinfo=UTC)
    )
    assert pilotage.mois_de_la_periode(quinze_jours, None) == pytest.approx(
        15 / (365.25 / 12)
    )


def test_un_nombre_cache_dans_un_tableau_l_est_dans_tous(app_p):
    # Nine exits, one of each type: every type is « < 5 ». Their total,
    # hidden in the table of exits, must not be read in the table of
    # categories nor in the row « Sortie de l'action » of the journey.
    debut = datetime(2026, 12, 1, tzinfo=UTC)
    with Session(app_p.extensions["db"]) as db:
        for type_sortie in TYPES_SORTIE:
            p = demande(db, "velos-alencon", statut="sortie", le=debut)
            p.type_sortie = type_sortie
        db.commit()
    f = figures(app_p, Filtres(debut=debut, fin=datetime(2027, 1, 1, tzinfo=UTC)))
    t = f.tableaux
    vus = {
        (cle, ligne_): t[cle].cellule(ligne_, TOTAL).texte(5)
        for cle, ligne_ in [
            ("sorties", TOTAL),
            ("categories_sortie", TOTAL),
            ("parcours", "sortie"),
        ]
    }
    assert t["sorties"].total.masque
    assert set(vus.values()) == {"secret"}, vus
    # No « 100 % » for a category beside hidden ones.
    assert [t["categories_sortie"].part(i) for i in range(4)] == [None] * 4
    # And whatever stays visible, no hidden count is recomputed in any table.
    assert [recalculables(u) for u in t.values()] == [[]] * len(t)


def test_une_transition_fait_passer_la_demande_d_une_colonne_a_la_suivante(app_p):
    with Session(app_p.extensions["db"]) as db:
        ids = [demande(db, "velos-alencon", statut="acceptee").id for _ in range(8)]
        db.commit()
    avant = figures(app_p, seuil=1).tableaux["parcours"]
    with Session(app_p.extensions["db"]) as db:
        p = db.get(Prescription, ids[0])
        p.statut = "entree"
        db.add(p)
        db.commit()
    apres = figures(app_p, seuil=1).tableaux["parcours"]
    assert ligne(avant, "acceptee")[-1] - ligne(apres, "acceptee")[-1] == 1
    assert ligne(apres, "entree")[-1] - ligne(avant, "entree")[-1] == 1
    assert apres.total.valeur == avant.total.valeur == 8


def test_filtres_du_territoire_et_du_catalogue(app_p):
    with Session(app_p.extensions["db"]) as db:
        for _ in range(5):
            demande(db, "velos-alencon", commune_code="61001")
        for _ in range(6):
            demande(db, "garage-evry", structure="garage-essonne", commune_code="91228")
        db.commit()
    fiches = app_p.extensions["catalogue"].fiches
    assert (
        figures(app_p, Filtres(territoire="61001")).tableaux["origines"].total.valeur
        == 5
    )
    retenues = pilotage.fiches_retenues(
        fiches, thematique="mobilite--entretenir-reparer-son-vehicule"
    )
    assert retenues == ("garage-evry",)
    assert (
        figures(app_p, Filtres(fiches=retenues)).tableaux["origines"].total.valeur == 6
    )
    # A prestataire's scope: its own structures only.
    assert (
        figures(app_p, Filtres(structures=("atelier-orne",)))
        .tableaux["origines"]
        .total.valeur
        == 5
    )


# --- Last years' results --------------------------------------------------------


def importer(app, texte: str) -> pilotage.RapportImport:
    catalogue = app.extensions["catalogue"]
    with Session(app.extensions["db"]) as db:
        rapport = pilotage.importer_csv(
            db,
            texte,
            catalogue.fiches,
            set(catalogue.structures),
            lire_sorties(),
            datetime(2026, 1, 2, tzinfo=UTC),
        )
        db.commit()
    return rapport


def bilans(app) -> dict:
    with Session(app.extensions["db"]) as db:
        return {(b.structure, b.fiche_id): b for b in pilotage.historique(db)}


def test_les_resultats_des_semences_se_chargent_tels_quels(app):
    rapport = importer(app, RESULTATS.read_text(encoding="utf-8"))
    assert rapport.erreurs == []
    assert rapport.chargees == 43
    ars = bilans(app)[("ars-service-emploi-formation", "")]
    assert (ars.annee, ars.personnes, ars.sexes) == (
        2017,
        565,
        {"femme": 132, "homme": 433},
    )
    assert ars.total_sorties == 294
    assert ars.sorties == {
        "emploi": 48,
        "formation": 3,
        "sortie-rsa": 67,
        "relais": 161,
        "abandon": 4,
        "incarceration": 8,
        "deces": 3,
    }
    assert ars.encore_suivies == 271
    assert round(ars.part_sexe("femme")) == 23
    udaf = bilans(app)[("udaf-moselle", "57-udaf-accompagnement-global")]
    for type_, (nombre, part) in SORTIES_UDAF_PUBLIEES.items():
        assert udaf.sorties[type_] == nombre
        assert udaf.part_sortie(type_) == pytest.approx(part, abs=0.1)


def test_une_ligne_fausse_est_signalee_et_les_autres_se_chargent(app):
    texte = (
        "annee;structure;fiche;indicateur;valeur;nombre\n"
        "2017;udaf-moselle;;personnes;;3987\n"
        "2017;udaf-moselle;;sexe;femme;douze\n"
        "2017;inconnue;;personnes;;5\n"
        "2017;udaf-moselle;;sortie;au-soleil;5\n"
        "2017;udaf-moselle;;sexe;homme;2145\n"
        "2017;udaf-moselle;;personnes;;99999999999999999999999\n"
        "2017;udaf-moselle;;sexe;autre;3\n"
    )
    rapport = importer(app, texte)
    assert rapport.chargees == 2
    assert rapport.erreurs == [
        "ligne 3, colonne « nombre » : « douze » n'est pas un nombre entier positif.",
        "ligne 4, colonne « structure » : « inconnue » n'est pas une structure du "
        "catalogue (son identifiant, ex. ars-service-emploi-formation).",
        rapport.erreurs[2],
        "ligne 7, colonne « nombre » : « 99999999999999999999999 » est trop grand "
        "(au plus 10\u202f000\u202f000).",
        rapport.erreurs[4],
    ]
    assert rapport.erreurs[2].startswith(
        "ligne 5, colonne « valeur » : « au-soleil » n'est pas un type de sortie "
        "connu (possibles : "
    )
    assert rapport.erreurs[4].startswith(
        "ligne 8, colonne « valeur » : « autre » n'est pas un sexe connu (possibles : "
    )
    udaf = bilans(app)[("udaf-moselle", "")]
    assert (udaf.personnes, udaf.sexes) == (3987, {"homme": 2145})


def test_un_second_import_remplace_le_chiffre_sans_le_doubler(app):
    entete = "annee;structure;fiche;indicateur;valeur;nombre\n"
    importer(app, entete + "2017;udaf-moselle;;personnes;;3000\n")
    importer(app, "\ufeff" + entete + "2017;udaf-moselle;;personnes;;3987\n")
    assert bilans(app)[("udaf-moselle", "")].personnes == 3987


def test_un_fichier_sans_les_bonnes_colonnes_le_dit(app):
    rapport = importer(app, "année,structure\n2017,udaf-moselle\n")
    assert rapport.chargees == 0
    assert rapport.erreurs[0].startswith("ligne 1 : colonne « annee » absente")


def test_le_resume_tenu_a_chaque_changement_compte_comme_les_demandes(app_p):
    """The summary the page reads (kept in each transaction) and the requests
    counted one by one, and the summary rebuilt from scratch: same figures,
    for everybody and for the people of a commune, an EPCI, a département."""
    debut = datetime(2026, 5, 1, tzinfo=UTC)
    # Alençon and Argentan (two EPCI of the Orne), Évry, and not given.
    communes = ["61001", "61006", "61001", "91228", None, "61001"] * 2
    with Session(app_p.extensions["db"]) as db:
        ps = [
            demande(
                db,
                "velos-alencon",
                le=debut + timedelta(hours=i),
                sexe=sexe,
                commune_code=commune,
            )
            for i, (sexe, commune) in enumerate(
                zip(["femme", "homme", "non-renseigne"] * 4, communes, strict=True)
            )
        ]
        db.commit()
        for i, p in enumerate(ps):
            p.statut = ("acceptee", "refusee", "entree", "sortie")[i % 4]
            p.motif_refus = "complet" if p.statut == "refusee" else None
            p.type_sortie = "relais" if p.statut == "sortie" else None
            db.add(p)
            db.add(
                Transition(
                    prescription_id=p.id,
                    de="demandee",
                    vers=p.statut,
                    action="accepter",
                    par="t",
                    le=p.cree_le + timedelta(hours=5 * i),
                )
            )
        db.commit()
        # An erasure takes a request and its log away: its counts go with it.
        for t in db.exec(
            select(Transition).where(Transition.prescription_id == ps[0].id)
        ):
            db.delete(t)
        db.flush()
        db.delete(db.get(Prescription, ps[0].id))
        db.commit()

    def toutes(source, territoire=None):
        f = Filtres(
            debut=debut, fin=datetime(2026, 6, 1, tzinfo=UTC), territoire=territoire
        )
        with Session(app_p.extensions["db"]) as db:
            r = pilotage.calculer(
                db,
                f,
                lire_sorties(),
                app_p.extensions["catalogue"].fiches,
                1,
                source=source,
            )
        assert r.source == source
        return (
            {k: t.en_dict() for k, t in r.tableaux.items()},
            # Seconds summed as floats: equal to the microsecond.
            (
                r.delais.nombre,
                r.delais.moyenne_jours and round(r.delais.moyenne_jours * 86400, 3),
                r.delais.mediane_jours,
            ),
            [(x.cle, x.prises.valeur) for x in r.remplissage_fiches],
        )

    # The Communauté urbaine d'Alençon; the Orne; the Essonne.
    territoires = [None, "246100663", "61", "91"]
    resumes = {t: toutes("resume", t) for t in territoires}
    for t in territoires:
        assert resumes[t] == toutes("demandes", t), t

    def total(figures):
        return figures[0]["parcours"]["lignes"][-1]["cellules"][-1]["nombre"]

    # The first request (Alençon) was erased: 11 left, 2 outside the Orne.
    assert [total(resumes[t]) for t in territoires] == [11, 5, 7, 2]
    # One commune's people are counted from the requests, by its index.
    assert total(toutes("demandes", "61001")) == 5
    with Session(app_p.extensions["db"]) as db:
        assert pilotage.recalculer(db) > 0
        db.commit()
    for t in territoires:
        assert toutes("resume", t) == resumes[t], t


def test_la_migration_compte_les_demandes_d_avant(tmp_path, app_p):
    """A département upgrading with a year of requests finds them counted."""
    from sqlalchemy import text

    from catalogue.stockage import creer_moteur, migrer

    url = f"sqlite:///{tmp_path / 'avant.sqlite3'}"
    migrer(url, "0002")
    moteur = creer_moteur(url)
    with moteur.begin() as cnx:
        cnx.execute(
            text(
                "INSERT INTO beneficiaires (id, prenom, nom, sexe, tranche_age, "
                "commune_code) VALUES (1, 'P', 'N', 'femme', '26-44', '61001'), "
                "(2, 'Q', 'M', 'homme', 'non-renseigne', '91228')"
            )
        )
        cnx.execute(
            text(
                "INSERT INTO prescriptions (id, fiche_id, session, "
                "structure_catalogue, beneficiaire_id, origine, statut, motif, "
                "place_tenue, hors_zone, cree_le, maj_le) VALUES "
                "(1, 'velos-alencon', '', 'atelier-orne', 1, 'referent', 'entree', "
                "'', 1, 0, '2026-02-03 10:00:00', '2026-02-03 10:00:00'), "
                "(2, 'velos-alencon', '', 'atelier-orne', 2, "
                "'auto-prescription', 'demandee', '', 1, 0, '2026-02-04 10:00:00', "
                "'2026-02-04 10:00:00')"
            )
        )
    migrer(url)

    # Whole months on the département's clock: the summary answers.
    f = Filtres(debut=heure.debut_du_mois(2026, 1), fin=heure.debut_du_mois(2027, 1))
    with Session(moteur) as db:
        r = pilotage.calculer(
            db, f, lire_sorties(), app_p.extensions["catalogue"].fiches, 1
        )
    assert r.source == "resume"
    assert ligne(r.tableaux["origines"], "referent") == [1, 0, 0, 1]
    assert ligne(r.tableaux["origines"], "auto-prescription") == [0, 1, 0, 1]
    assert [cle for cle, _ in r.mois] == ["2026-02"]
    # Counted where each person lives too: the Orne has the first one.
    orne = Filtres(debut=f.debut, fin=f.fin, territoire="61")
    with Session(moteur) as db:
        r = pilotage.calculer(
            db, orne, lire_sorties(), app_p.extensions["catalogue"].fiches, 1
        )
    assert r.source == "resume"
    assert ligne(r.tableaux["origines"], "total") == [1, 0, 0, 1]
    moteur.dispose()


def test_les_mois_sont_ceux_du_departement_pas_ceux_de_l_utc(app_p):
    """At 00:30 in Paris on 1 December (23:30 UTC on 30 November), a request
    belongs to December: in the summary kept as it goes, in the summary
    rebuilt, and in the requests counted one by one."""

    with Session(app_p.extensions["db"]) as db:
        demande(db, "velos-alencon", le=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
        demande(db, "velos-alencon", le=datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
        db.commit()

    def compter(annee, mois, source):
        periode = Filtres(
            debut=heure.debut_du_mois(annee, mois),
            fin=heure.debut_du_mois(annee, mois + 1),
        )
        with Session(app_p.extensions["db"]) as db:
            f = pilotage.calculer(
                db, periode, pilotage.lire_sorties(), {}, 1, source=source
            )
        return f.tableaux["parcours"].total.valeur, [cle for cle, _ in f.mois]

    assert heure.debut_du_mois(2026, 12) == datetime(2026, 11, 30, 23, tzinfo=UTC)
    for source in ("resume", "demandes", "recalcule"):
        if source == "recalcule":
            with Session(app_p.extensions["db"]) as db:
                pilotage.recalculer(db)
                db.commit()
            source = "resume"
        assert compter(2026, 11, source) == (0, [])
        assert compter(2026, 12, source) == (1, ["2026-12"])
        assert compter(2027, 1, source) == (1, ["2027-01"])
