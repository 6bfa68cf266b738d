"""People's own words find the actions, and no page is needlessly empty.

The cases of the issue, on the demo catalogue whose fiches they name.
"""

import html
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from catalogue.recherche import Requete
from catalogue.recherche.langue import thesaurus
from catalogue.recherche.pertinence import evaluer, lire_essais
from catalogue.recherche.propositions import Vocabulaire
from catalogue.vocabulaires import vocabulaire

ROOT = Path(__file__).resolve().parents[2]
SANS_DOMICILE_NANCY = "54-ars-sef-accompagnement-rsa-sans-domicile-nancy"


def trouvees(client, **args) -> str:
    reponse = client.get("/", query_string=args)
    assert reponse.status_code == 200
    return reponse.get_data(as_text=True)


def test_sdf_trouve_la_fiche_de_nancy_pour_les_personnes_sans_domicile(client):
    page = trouvees(client, q="sdf", commune="Nancy")
    assert f"/fiches/{SANS_DOMICILE_NANCY}" in page


def test_papiers_a_nancy_trouve_l_aide_aux_demarches(client):
    page = trouvees(client, q="papiers", commune="Nancy")
    assert f"/fiches/{SANS_DOMICILE_NANCY}" in page


def test_illettrisme_trouve_les_ateliers_de_formation_de_base(client):
    page = trouvees(client, q="illettrisme")
    assert "/fiches/61-boite-aux-lettres-afb-rsa" in page


def test_faire_garder_mes_enfants_trouve_les_modes_de_garde(client):
    page = trouvees(client, q="faire garder mes enfants")
    assert "/fiches/91-mdef-senart-modes-accueil-balle-au-bond" in page


@pytest.mark.parametrize(
    ("phrase", "premiere"),
    [
        ("je cherche un cours de francais", "61-ape-formation-linguistique-avant-ofii"),
        ("besoin d'aide pour le permis", "61-edith-bonnem-permis-b"),
        ("je veux passer le permis", "61-edith-bonnem-permis-b"),
    ],
)
def test_une_phrase_dite_comme_on_parle_trouve_ce_qu_elle_demande(
    app, phrase, premiere
):
    # « cherche », « besoin », « aide » say the asking, not what is asked:
    # required, they found the two relocation programmes that « cherchent ».
    resultats = app.extensions["recherche"].rechercher(Requete(texte=phrase))
    assert resultats.resultats[0].id == premiere
    assert resultats.mots_ignores == ()


def test_une_ville_tapee_avec_les_mots_devient_le_lieu_de_la_recherche(client):
    # « evry » found with no French course: it was left out and the first
    # courses were in Alençon. Read as the place, the courses near Évry come.
    reponse = client.get("/", query_string={"q": "cours de francais evry"})
    assert reponse.status_code == 303
    suite = urlsplit(reponse.headers["Location"])
    assert parse_qs(suite.query) == {
        "q": ["cours de francais"],
        "commune": ["Évry-Courcouronnes (91000)"],
    }
    page = client.get(reponse.headers["Location"]).get_data(as_text=True)
    assert "/fiches/91-aries-remobilisation-linguistique" in page
    assert "/fiches/61-ape-ateliers-sociolinguistiques" not in page
    assert "ignoré" not in page
    # Typed as one goes (htmx), the page does not jump: a link says it.
    partiel = client.get(
        "/",
        query_string={"q": "cours de francais evry"},
        headers={"HX-Request": "true", "HX-Target": "resultats"},
    )
    assert partiel.status_code == 200
    chercher = r'<a href="([^"]+)">Chercher « cours de francais » à '
    lien = re.search(chercher, partiel.text)
    assert lien and html.unescape(lien[1]) == reponse.headers["Location"]
    # A stop word inside the name: « le Mans ».
    mans = client.get("/", query_string={"q": "permis le mans"})
    assert parse_qs(urlsplit(mans.headers["Location"]).query)["commune"] == [
        "Le Mans (72000)"
    ]
    # « corbeil » alone was found in a fiche, its postcode was left out:
    # the two make the place, and neither stays among the words.
    corbeil = client.get("/", query_string={"q": "permis corbeil 91000"})
    assert parse_qs(urlsplit(corbeil.headers["Location"]).query) == {
        "q": ["permis"],
        "commune": ["Corbeil-Essonnes (91100)"],
    }
    # The start of a name being typed is no place yet.
    tape = {"q": "cours de francais evr"}
    assert client.get("/", query_string=tape).status_code == 200
    # Found together with the other words, a place name stays a word.
    assert client.get("/", query_string={"q": "mobilite alencon"}).status_code == 200
    # A place already chosen is never replaced.
    choisi = {"q": "cours de francais evry", "commune": "Alençon"}
    assert client.get("/", query_string=choisi).status_code == 200


def test_trier_par_distance_sans_commune_lit_la_ville_tapee_avec_les_mots(client):
    # « Plus proches d'abord » needs a place: the one typed with the words
    # is taken, the sort and the radius kept, instead of only an error.
    reponse = client.get(
        "/", query_string={"q": "cours de francais evry", "tri": "distance"}
    )
    assert reponse.status_code == 303
    assert parse_qs(urlsplit(reponse.headers["Location"]).query) == {
        "q": ["cours de francais"],
        "commune": ["Évry-Courcouronnes (91000)"],
        "tri": ["distance"],
    }
    page = client.get(reponse.headers["Location"]).get_data(as_text=True)
    assert "/fiches/91-aries-remobilisation-linguistique" in page
    rayon = client.get("/", query_string={"q": "permis le mans", "rayon_km": "20"})
    assert parse_qs(urlsplit(rayon.headers["Location"]).query) == {
        "q": ["permis"],
        "commune": ["Le Mans (72000)"],
        "rayon_km": ["20"],
    }
    # No place in the words: the page says what is missing.
    seul = client.get("/", query_string={"q": "permis", "tri": "distance"})
    assert seul.status_code == 200
    assert "Indiquez une commune pour chercher autour" in html.unescape(seul.text)


@pytest.mark.parametrize(
    ("tape", "mots", "rayon"),
    [
        ("à 10 km de Massy", None, "10"),
        ("a 10km de massy", None, "10"),
        ("permis à moins de 20 km de massy", "permis", "20"),
        ("permis à 2,5 km de Massy", "permis", "3"),
        ("permis à 3 km à pied de Massy", "permis", "3"),
        ("permis dans un rayon de 15 kms de Massy", "permis", "15"),
        # « près de » says where, not how far: no radius (it would hide the
        # actions without an address, which serve the town too).
        ("permis près de massy", "permis", None),
        ("jeunes moins de 26 ans à 10 km de Massy", "jeunes moins de 26 ans", "10"),
        ("permis à 10 km d'Orsay", "permis", "10"),
        # The distance after the town, or the town alone with it.
        ("permis massy 10 km", "permis", "10"),
        ("permis à massy dans un rayon de 10 km", "permis", "10"),
        ("massy 20km", None, "20"),
    ],
)
def test_une_distance_tapee_avec_la_ville_devient_le_rayon(client, tape, mots, rayon):
    # « à 10 km de Massy » kept « 10 km » as words: 3 actions holding « 10 »
    # (« 10 jours »…), none of them around Massy.
    reponse = client.get("/", query_string={"q": tape})
    assert reponse.status_code == 303
    ville = "Orsay (91400)" if "Orsay" in tape else "Massy (91300)"
    attendu = {"commune": [ville]} | ({"rayon_km": [rayon]} if rayon else {})
    if mots:
        attendu["q"] = [mots]
    assert parse_qs(urlsplit(reponse.headers["Location"]).query) == attendu


def test_un_mot_suivi_d_une_distance_reste_un_mot(client):
    # « job 10 km » went to Job (63990), a village of the Puy-de-Dôme:
    # no action, and « job » lost. A distance imposes a town only where
    # the catalogue has actions; a village named like a word stays a word.
    for tape in ("job 10 km", "rue 5 km"):
        reponse = client.get("/", query_string={"q": tape})
        assert reponse.status_code == 200
        assert "(63990)" not in reponse.text and "(80120)" not in reponse.text


def test_le_lien_propose_dit_la_distance_tapee(client):
    partiel = client.get(
        "/",
        query_string={"q": "permis à 10 km de Massy"},
        headers={"HX-Request": "true", "HX-Target": "resultats"},
    )
    assert "Chercher « permis » à moins de 10 km de Massy (91300)" in html.unescape(
        partiel.text
    )


def test_creer_mon_entreprise_trouve_autant_que_creer_entreprise(app):
    moteur = app.extensions["recherche"]
    court = {
        r.id for r in moteur.rechercher(Requete(texte="créer entreprise")).resultats
    }
    phrase = moteur.rechercher(Requete(texte="créer mon entreprise"))
    assert court <= {r.id for r in phrase.resultats}
    assert "91-adie-creation-activite" in court
    assert phrase.mots_ignores == ()


def test_les_precisions_sur_le_public_se_cherchent(app):
    # "illettrisme" is written only in this fiche's publics_precisions.
    moteur = app.extensions["recherche"]
    resultats = moteur.rechercher(Requete(texte="lecture écriture calcul illettrisme"))
    assert resultats.resultats[0].id == "61-boite-aux-lettres-afb-rsa"


def test_un_mot_inconnu_est_ignore_et_on_le_dit(client):
    page = trouvees(client, q="vélo astrophysique")
    assert "/fiches/61-atelier-mob-pret-deux-roues" in page
    assert "« astrophysique » a été ignoré" in page


def test_l_api_dit_aussi_quels_mots_sont_ignores(client):
    corps = client.get("/api/v1/fiches?q=vélo astrophysique").get_json()
    assert corps["mots_ignores"] == ["astrophysique"]
    assert "61-atelier-mob-pret-deux-roues" in [r["id"] for r in corps["resultats"]]


def test_une_page_vide_propose_la_commune_sans_le_mot_et_des_themes(client):
    page = trouvees(client, q="astrophysique", commune="Nancy")
    assert "Aucune action trouvée" in page
    assert "À Nancy (54000), sans « astrophysique »" in page
    assert "Thèmes proches à Nancy (54000)" in page


def test_la_page_vide_nomme_la_commune_trouvee_pas_le_code_tape(client):
    page = trouvees(client, q="astrophysique", commune="54000")
    assert "À Nancy (54000), sans « astrophysique »" in page
    assert "Thèmes proches à Nancy (54000)" in page
    assert "À 54000" not in page


def test_une_page_vide_propose_la_bonne_orthographe(client):
    page = trouvees(client, q="veko")
    assert "Vouliez-vous dire « vélo » ?" in page
    assert "q=v%C3%A9lo" in page


def test_une_page_vide_propose_la_meme_recherche_ailleurs(client):
    page = trouvees(client, q="tapaj", commune="Nancy")
    assert "« tapaj » partout, sans la commune" in page


def test_les_propositions_disent_vrai_sur_le_lieu_les_mots_et_les_places(client):
    # A département is no commune.
    page = trouvees(client, q="tapaj", commune="Paris")
    assert "« tapaj » partout, sans ce lieu" in page
    # No words typed: no « mêmes mots ».
    page = trouvees(client, commune="Toul", publics="jeunes")
    assert "Aucune action trouvée" in page
    assert "Sans les filtres</a>" in page and "mêmes mots" not in page
    # No « vélo » action has a place left in the demo (some others have):
    # the spelling comes first, and its question mark stays last.
    page = trouvees(client, q="veko", places_disponibles="1")
    assert "Vouliez-vous dire « vélo », même sans place libre annoncée ?" in page


def test_sans_mot_tape_rien_autour_de_lyon_propose_partout_sans_guillemets_vides(
    client,
):
    # Une personne coche seulement « À moins de 10 km » de Lyon : rien autour.
    page = trouvees(client, commune="Lyon", rayon_km="10")
    assert "Aucune action trouvée" in page
    assert "Partout, sans la commune" in page
    assert not re.search(r"«\s*»", page)  # no empty quotes


@pytest.mark.parametrize("seuil", [0.9])
def test_les_recherches_de_tous_les_jours_trouvent_leur_fiche(app, seuil):
    essais = lire_essais(ROOT / "bench" / "requetes_quotidiennes.yaml")
    assert len(essais) >= 60
    bilan = evaluer(app.extensions["recherche"], essais)
    assert bilan.taux >= seuil, [(e.q, ids) for e, ids in bilan.manques]


def test_le_thesaurus_ne_cite_que_des_thematiques_du_vocabulaire():
    connues = set(vocabulaire("thematiques"))
    for entree in thesaurus():
        assert set(entree["thematiques"]) <= connues, entree["dit"]


def test_beneficiaires_du_rsa_trouve_les_actions_pour_les_personnes_au_rsa(app):
    # Most fiches say « Personnes au RSA »: the words a référent types must
    # find them as « RSA » alone does.
    moteur = app.extensions["recherche"]

    def ids(texte: str) -> set[str]:
        requete = Requete(texte=texte, par_page=100)
        return {r.id for r in moteur.rechercher(requete).resultats}

    rsa = ids("RSA")
    assert len(rsa) > 20
    for texte in ("bénéficiaires du RSA", "bénéficiaire du rsa", "personnes au RSA"):
        assert ids(texte) == rsa, texte


@pytest.mark.parametrize("mot", ["dette", "endettement", "surendetté"])
def test_une_dette_se_cherche_au_singulier_comme_au_pluriel(app, mot):
    # « dette » found nothing while « dettes » found the budget actions,
    # and the empty page asked « Vouliez-vous dire « cette » ? ».
    moteur = app.extensions["recherche"]
    attendues = {r.id for r in moteur.rechercher(Requete(texte="dettes")).resultats}
    trouvees_ = {r.id for r in moteur.rechercher(Requete(texte=mot)).resultats}
    assert "57-udaf-accompagnement-global" in attendues
    assert trouvees_ == attendues


def test_un_mot_vide_n_est_jamais_propose_comme_orthographe():
    connus = Vocabulaire.depuis([{"nom": "Cette action aide à payer ses dettes"}])
    assert connus.corriger("sette") is None  # not « cette »
    assert connus.corriger("detes") == "dettes"


def test_un_mot_dont_la_racine_est_un_mot_vide_ne_trouve_pas_tout(app, client):
    # « sées » stems to « se », like « se » and « ses »: it found 47 actions
    # all over France, and « permis sees » never read the town.
    moteur = app.extensions["recherche"]
    trouvees_ = {r.id for r in moteur.rechercher(Requete(texte="sées")).resultats}
    assert "61-ets-association-intermediaire-sees" in trouvees_
    assert len(trouvees_) <= 3
    reponse = client.get("/", query_string={"q": "permis sees"})
    assert reponse.status_code == 303
    assert parse_qs(urlsplit(reponse.headers["Location"]).query) == {
        "q": ["permis"],
        "commune": ["Sées (61500)"],
    }


@pytest.mark.parametrize(
    ("tape", "lieu", "lien"),
    [
        ("evry", "Évry-Courcouronnes (91000)", "à"),
        ("91000", "Évry-Courcouronnes (91000)", "à"),
        ("Massy", "Massy (91300)", "à"),
        ("61", "Orne (61)", "sur ce territoire :"),
        # Written in a few fiches, still where one looks first.
        ("orne", "Orne (61)", "sur ce territoire :"),
        (
            "Val d'Essonne",
            "Communauté de communes du Val d'Essonne (CCVE)",
            "sur ce territoire :",
        ),
    ],
)
def test_un_lieu_seul_dans_la_boite_de_recherche_devient_le_lieu(
    client, tape, lieu, lien
):
    # Typing only where one lives is a common first search: « evry » found
    # nothing and offered only « Sans « evry » »; « orne », 5 fiches.
    reponse = client.get("/", query_string={"q": tape})
    assert reponse.status_code == 303
    assert parse_qs(urlsplit(reponse.headers["Location"]).query) == {"commune": [lieu]}
    page = client.get(reponse.headers["Location"])
    assert "Aucune action trouvée" not in html.unescape(page.get_data(as_text=True))
    # While typing (htmx), a link says it instead of moving the page.
    partiel = client.get(
        "/",
        query_string={"q": tape},
        headers={"HX-Request": "true", "HX-Target": "resultats"},
    )
    assert f"Chercher les actions {lien} {lieu}" in html.unescape(partiel.text)


def test_cv_trouve_toutes_les_actions_du_theme_cv(app):
    # « cv » found 3 actions while the theme « CV, lettre, entretien » had 23.
    moteur = app.extensions["recherche"]
    theme = "preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"
    du_theme = moteur.rechercher(
        Requete(filtres={"thematiques": (theme,)}, par_page=100)
    )
    cv = moteur.rechercher(Requete(texte="cv", par_page=100))
    assert du_theme.total >= 3 and cv.total >= 15
    assert {r.id for r in du_theme.resultats} <= {r.id for r in cv.resultats}


def test_une_recherche_ecrite_comme_un_sms_trouve_comme_en_toutes_lettres(app):
    # « jcherche 1 travail » found 5 actions where « travail » finds 62.
    moteur = app.extensions["recherche"]
    sms = moteur.rechercher(Requete(texte="jcherche 1 travail"))
    assert sms.total == moteur.rechercher(Requete(texte="travail")).total
    assert sms.mots_ignores == ()


def test_une_ville_ecrite_dans_des_fiches_est_proposee_comme_lieu(client):
    # « alençon » alone matched « Mission locale du Pays d'Alençon » across the
    # catalogue: the town is offered, never imposed (it is a word there).
    reponse = client.get("/", query_string={"q": "alençon"})
    assert reponse.status_code == 200
    assert "Chercher les actions à Alençon (61000)" in html.unescape(reponse.text)
    # A name and a postcode that disagree are asked about, not guessed.
    paris = client.get("/", query_string={"q": "permis paris 13001"})
    assert parse_qs(urlsplit(paris.headers["Location"]).query) == {
        "q": ["permis"],
        "commune": ["paris 13001"],
    }
    page = html.unescape(client.get(paris.headers["Location"]).text)
    assert "« paris 13001 » : ce nom et ce code postal ne vont pas ensemble." in page
    assert "Paris (75001)" in page and "Marseille (13001)" in page


def test_un_village_lointain_nomme_comme_un_mot_est_propose_pas_impose(client):
    # « mer » sent people to Mer (Loir-et-Cher), where the catalogue has
    # nothing: a place outside its départements is only offered.
    for mot, lieu in (("mer", "Mer (41500)"), ("orange", "Orange (84100)")):
        reponse = client.get("/", query_string={"q": mot})
        assert reponse.status_code == 200
        assert f"Chercher les actions à {lieu}" in html.unescape(reponse.text)
    # Where it has actions, the place is taken, stop words left behind.
    a_evry = client.get("/", query_string={"q": "formation à evry"})
    assert parse_qs(urlsplit(a_evry.headers["Location"]).query) == {
        "q": ["formation"],
        "commune": ["Évry-Courcouronnes (91000)"],
    }


def _ids(app, texte: str) -> list[str]:
    resultats = app.extensions["recherche"].rechercher(Requete(texte=texte))
    return [r.id for r in resultats.resultats]


@pytest.mark.parametrize(
    ("phrase", "attendues"),
    [
        # « pas » was required and found in 27 fiches, while « lire » and
        # « francais » were left out: the reading and French courses came last.
        ("je sais pas lire", {"61-boite-aux-lettres-afb-rsa"}),
        ("je parle pas francais", {"61-ape-ateliers-sociolinguistiques"}),
        ("jai pas de logement", {"91-ml-nord-essonne-cllaj"}),
        # « plus », « payer » were required: two actions unrelated to rent.
        (
            "je peux plus payer mon loyer",
            {
                "57-udaf-accompagnement-global",
                "49-aide-accueil-competences-mutualisees",
            },
        ),
        # « B » alone: only the one fiche writing « permis B » was found.
        ("mobilité permis B", {"91-essonne-mobilites-plateforme-mobilite"}),
        # Written joined or with a hyphen, the same word.
        (
            "accompagnement socio-professionnel",
            {"54-ars-sef-accompagnement-rsa-lunevillois"},
        ),
        # SIAE found only the SIAO.
        ("siae", {"61-regie-des-quartiers-aci", "61-aide-association-intermediaire"}),
        # The référents' word for what keeps people from work.
        ("levée des freins périphériques", {"91-cd91-pack-sortie-rsa"}),
        # One entry of the thesaurus: each of its words finds the others'.
        ("alcool", {"91-ml-paris-saclay-egaux", "72-tarmac-tapaj-iod"}),
        ("addiction", {"91-cd91-consultation-infirmiere-prevention"}),
    ],
)
def test_les_mots_de_la_phrase_qui_ne_disent_pas_le_besoin_n_ecartent_rien(
    app, phrase, attendues
):
    assert attendues <= set(_ids(app, phrase))


def test_des_dettes_trouvent_le_budget_avant_les_aides_au_demenagement(app):
    # « aide financière » (to move to the provinces) came first for debts.
    assert _ids(app, "j'ai des dettes")[:2] == [
        "57-udaf-accompagnement-global",
        "91-cd91-pack-sortie-rsa",
    ]


@pytest.mark.parametrize(
    ("sigle", "attendue"),
    [
        ("U.D.A.F", "57-udaf-accompagnement-global"),
        ("C.C.A.S.", "61-ccas-alencon-referent-social-rsa"),
        ("r.q.t.h", "91-free-competences-pre-eligibilite-travailleur-handicape"),
    ],
)
def test_un_sigle_ecrit_avec_des_points_se_cherche_comme_le_sigle(
    client, sigle, attendue
):
    # Letters alone are no words: « U.D.A.F » found 65 unrelated actions.
    resultats = client.get("/api/v1/fiches", query_string={"q": sigle}).get_json()
    assert resultats["resultats"][0]["id"] == attendue


def test_l_api_propose_le_lieu_tape_avec_les_mots(client):
    """The page moves « à 10 km de Massy » to its place box; the API gave 7
    actions from everywhere, Massy « ignored ». It now says where, and how
    to search there."""
    corps = client.get(
        "/api/v1/fiches", query_string={"q": "permis à 10 km de Massy"}
    ).get_json()
    lieu = corps["lieu_propose"]
    assert (lieu["libelle"], lieu["mots"], lieu["rayon_km"]) == (
        "Massy (91300)",
        "permis",
        10.0,
    )
    chemin = lieu["url"].split("://", 1)[1].split("/", 1)[1]
    la_bas = client.get("/" + chemin).get_json()
    assert "lieu_propose" not in la_bas
    # Near Massy, and an action with no address open to the Essonne (EMILE
    # is prepared in Île-de-France, then leads to the Mayenne).
    assert [r["id"] for r in la_bas["resultats"]] == [
        "91-essonne-mobilites-plateforme-mobilite",
        "53-copainville-emile-mayenne",
    ]
    assert "lieu_propose" not in client.get("/api/v1/fiches?q=permis").get_json()
