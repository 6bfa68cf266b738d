"""Another tool searches the catalogue through the JSON API."""

import pytest

from web.parametres import PARAMETRES


def test_chercher_renvoie_resultats_et_facettes(client_recherche):
    reponse = client_recherche.get("/api/v1/fiches?q=mobilte&par_page=2")
    assert reponse.status_code == 200
    corps = reponse.get_json()
    assert (corps["total"], corps["page"], len(corps["resultats"])) == (3, 1, 2)
    premier = corps["resultats"][0]
    assert {
        "id",
        "nom",
        "resume",
        "structure",
        "url",
        "places_restantes",
        "complet",
        "places_maj_le",
        "distance_km",
        "surlignage",
    } <= set(premier)
    assert corps["facettes"]["categories_thematiques"] == {"mobilite": 3}
    assert "avertissement" not in corps


def test_filtres_commune_et_places_dans_l_url(client_recherche):
    reponse = client_recherche.get(
        "/api/v1/fiches?commune=61000&rayon_km=15&places_disponibles=1"
        "&mobilisable_par=professionnels&tri=distance"
    )
    corps = reponse.get_json()
    # The remote one has no limit of places: it has room, at no distance.
    assert [r["id"] for r in corps["resultats"]] == [
        "mob-velos-alencon",
        "numerique-a-distance",
    ]
    assert corps["resultats"][0]["distance_km"] == 0
    assert corps["resultats"][1]["distance_km"] is None


def test_valeurs_repetees_ou_separees_par_des_virgules(client_recherche):
    a = client_recherche.get(
        "/api/v1/fiches?thematiques=mobilite--preparer-un-permis"
        "&thematiques=famille--garde-denfants"
    ).get_json()
    b = client_recherche.get(
        "/api/v1/fiches?thematiques=mobilite--preparer-un-permis,famille--garde-denfants"
    ).get_json()
    assert a["total"] == b["total"] == 2


@pytest.mark.parametrize(
    ("parametres", "message"),
    [
        (
            "thematiques=cuisine",
            "Valeur inconnue pour le filtre « thématique » : « cuisine »",
        ),
        ("page=0", "« page » doit être un nombre entier entre 1 et 1000"),
        ("par_page=500", "« par_page » doit être un nombre entier entre 1 et 100"),
        (
            "commune=Alençon&rayon_km=10000",
            "Le rayon doit être un nombre de kilomètres",
        ),
        ("rayon_km=10", "Indiquez une commune"),
        ("commune=Atlantide", "Lieu introuvable : « Atlantide »"),
        ("tri=prix", "Tri inconnu : « prix »"),
        ("thematique=mobilite", "Paramètre inconnu : « thematique »"),
    ],
)
def test_un_mauvais_parametre_donne_400_en_francais(
    client_recherche, parametres, message
):
    reponse = client_recherche.get(f"/api/v1/fiches?{parametres}")
    assert reponse.status_code == 400
    assert reponse.is_json
    assert message in reponse.get_json()["erreur"]


def test_le_document_openapi_decrit_la_recherche(client_recherche):
    doc = client_recherche.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    recherche = doc["paths"]["/api/v1/fiches"]["get"]
    noms = {p["name"] for p in recherche["parameters"]}
    assert set(PARAMETRES) <= noms  # every parameter the API accepts
    assert "400" in recherche["responses"]


@pytest.mark.parametrize("saisie", ["alen", "ALENÇ", "61000"])
def test_l_autocompletion_propose_alencon(client_recherche, saisie):
    communes = client_recherche.get(f"/api/v1/communes?q={saisie}").get_json()
    assert communes[0]["libelle"] == "Alençon (61000)"
    assert communes[0]["code_insee"] == "61001"


def test_le_libelle_propose_se_relit_comme_commune(client_recherche):
    corps = client_recherche.get("/api/v1/fiches?commune=Alençon (61000)").get_json()
    assert "mob-velos-alencon" in [r["id"] for r in corps["resultats"]]


def test_un_index_illisible_donne_503_en_francais(app_recherche, client_recherche):
    # The index's list of segments got damaged on disk.
    (app_recherche.extensions["recherche"].dossier / "meta.json").write_text("{abîmé")
    reponse = client_recherche.get("/api/v1/fiches?q=velo")
    assert reponse.status_code == 503
    erreur = reponse.get_json()["erreur"]
    assert erreur == "La recherche est momentanément indisponible."


def test_sans_mots_avec_une_commune_le_plus_pres_d_abord(client):
    # Browsing near Alençon: the index's order put an action 2.9 km away
    # before those in the town, and with words a platform 61 km away first.
    corps = client.get("/api/v1/fiches?commune=Alençon&par_page=50").get_json()
    distances = [r["distance_km"] for r in corps["resultats"]]
    connues = [d for d in distances if d is not None]
    assert connues == sorted(connues) and len(connues) > 10
    assert distances[: len(connues)] == connues  # no address: after them
    # Words keep their order by relevance; the page still offers « pertinence ».
    page = client.get("/?commune=Alençon").get_data(as_text=True)
    assert '<option value="pertinence" selected>' in page
