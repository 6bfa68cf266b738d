"""The national aggregator takes our catalogue at a URL: every record it reads,
page after page, is valid data·inclusion, and the places are today's."""

from datetime import UTC, datetime

from data_inclusion.schema import v1
from sqlmodel import Session

from catalogue import places
from catalogue.export import exporter_catalogue
from catalogue.territoires import departements_des_zones, referentiel


def tout_lire(client, quoi: str, taille: int) -> tuple[list[dict], list[dict]]:
    """Walk the pages as a harvester does: until « pages »."""
    pages, enregistrements, page = [], [], 1
    while True:
        reponse = client.get(
            f"/api/v1/data-inclusion/{quoi}?page={page}&taille={taille}"
        )
        assert reponse.status_code == 200, reponse.get_json()
        corps = reponse.get_json()
        pages.append(corps)
        enregistrements += corps["items"]
        if page >= corps["pages"]:
            return pages, enregistrements
        page += 1


def test_chaque_structure_et_chaque_service_du_catalogue_est_valide(app, client):
    _, structures = tout_lire(client, "structures", 7)
    pages_s, services = tout_lire(client, "services", 7)
    for structure in structures:
        v1.Structure.model_validate(structure)
    for service in services:
        v1.Service.model_validate(service)
        assert service["lien_source"].endswith(
            "/fiches/" + service["id"].split("--")[1]
        )
    # The same records as `make exporter`, each once.
    attendues, attendus = exporter_catalogue(app.extensions["catalogue"])
    assert sorted(s["id"] for s in structures) == sorted(s["id"] for s in attendues)
    assert sorted(s["id"] for s in services) == sorted(s["id"] for s in attendus)
    assert len({s["id"] for s in services}) == len(services)
    # Every page is full but the last; each says the same total.
    assert {p["total"] for p in pages_s} == {len(services)}
    assert [len(p["items"]) for p in pages_s[:-1]] == [7] * (len(pages_s) - 1)
    assert 1 <= len(pages_s[-1]["items"]) <= 7
    assert len(pages_s) > 2


def test_les_places_du_service_sont_celles_de_la_base(app_recherche):
    client = app_recherche.test_client()
    maintenant = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with Session(app_recherche.extensions["db"]) as db:
        places.fixer(db, "mob-velos-alencon", 1, "prestataire", maintenant=maintenant)
        places.fixer(db, "cv-sessions-alencon", 2, "prestataire", session="2099-03-01")
        db.commit()
    _, services = tout_lire(client, "services", 100)
    par_id = {s["id"]: s for s in services}
    velos = par_id["offre-insertion--mob-velos-alencon"]["extra"]
    assert velos["places_restantes"] == 1  # the YAML says 4: the database wins
    assert velos["places_maj_le"] == "2026-03-02"
    assert velos["sessions"] == []
    cv = par_id["offre-insertion--cv-sessions-alencon"]["extra"]
    assert cv["capacite"] == 10 and cv["unite"] == "places"
    assert cv["sessions"] == [
        {"debut": "2099-03-01", "fin": None, "places": 10, "places_restantes": 2}
    ]
    assert cv["places_restantes"] == 2


def test_une_action_sans_places_suivies_le_dit(app_recherche):
    _, services = tout_lire(app_recherche.test_client(), "services", 100)
    sans = [s for s in services if s["extra"]["places_restantes"] is None]
    assert sans, "le petit catalogue a des actions sans places suivies"
    assert all(s["extra"]["places_maj_le"] is None for s in sans)


def test_une_page_au_dela_de_la_derniere_est_vide(client_recherche):
    corps = client_recherche.get(
        "/api/v1/data-inclusion/structures?page=500&taille=10"
    ).get_json()
    assert corps["items"] == [] and corps["page"] == 500 and corps["pages"] == 1


def test_un_parametre_faux_recoit_son_message_en_francais(client_recherche):
    for requete, message in (
        ("taille=abc", "« taille » doit être un nombre entier entre 1 et 1000"),
        ("taille=0", "« taille » doit être un nombre entier entre 1 et 1000"),
        ("taille=5000", "« taille » doit être un nombre entier entre 1 et 1000"),
        ("page=-1", "« page » doit être un nombre entier entre 1 et 100000"),
        ("par_page=10", "Paramètre inconnu : « par_page »"),
    ):
        reponse = client_recherche.get(f"/api/v1/data-inclusion/services?{requete}")
        assert reponse.status_code == 400, requete
        assert message in reponse.get_json()["erreur"], requete
        assert reponse.get_json()["statut"] == 400


def test_le_document_openapi_decrit_les_deux_listes(client_recherche):
    document = client_recherche.get("/api/v1/openapi.json").get_json()
    for quoi, filtres in (
        ("structures", []),
        ("services", ["thematiques", "publics", "code_departement", "code_insee"]),
    ):
        operation = document["paths"][f"/api/v1/data-inclusion/{quoi}"]["get"]
        noms = [p["name"] for p in operation["parameters"]]
        assert noms == ["page", "taille", *filtres]
        assert {"200", "400"} <= set(operation["responses"])
    schemas = document["components"]["schemas"]
    assert "extra" in schemas["ServiceDI"]["properties"]
    assert "places_restantes" in schemas["ExtensionPlaces"]["properties"]


def test_l_agregateur_filtre_les_services_par_thematique_public_et_territoire(
    client,
):
    _, tous = tout_lire(client, "services", 1000)

    def ids(requete: str) -> list[str]:
        reponse = client.get(f"/api/v1/data-inclusion/services?taille=1000&{requete}")
        assert reponse.status_code == 200, reponse.get_json()
        return [s["id"] for s in reponse.get_json()["items"]]

    mobilite = [
        s["id"] for s in tous if any(t.startswith("mobilite") for t in s["thematiques"])
    ]
    assert 0 < len(mobilite) < len(tous)
    assert ids("thematiques=mobilite") == mobilite
    un_theme = "mobilite--entretenir-reparer-son-vehicule"
    assert ids(f"thematiques={un_theme}") == [
        s["id"] for s in tous if un_theme in s["thematiques"]
    ]
    # Publics of the national list, as the services carry them.
    minimas = "beneficiaires-des-minimas-sociaux"
    rsa = [s["id"] for s in tous if minimas in (s["publics"] or [])]
    assert 0 < len(rsa) < len(tous)
    assert ids(f"publics={minimas}") == rsa
    # Filters combine: mobility for people on minimum benefits.
    assert ids(f"thematiques=mobilite&publics={minimas}") == [
        i for i in mobilite if i in rsa
    ]
    # A service is in the Essonne by its place or its zone, as it reads.
    essonne = [
        s["id"]
        for s in tous
        if "91"
        in departements_des_zones(
            filter(None, [s["code_insee"], *(s["zone_eligibilite"] or [])]),
            referentiel(),
        )
    ]
    assert 0 < len(essonne) < len(tous)
    assert ids("code_departement=91") == essonne
    # Évry-Courcouronnes: what the Essonne's zone covers is found from it.
    assert set(essonne) >= set(ids("code_insee=91228")) > set()


def test_un_filtre_faux_ou_repete_recoit_son_message_en_francais(client_recherche):
    for requete, message in [
        ("thematiques=velo", "Thématique inconnue : « velo »."),
        ("publics=beneficiaires-rsa", "Public inconnu du référentiel national"),
        ("code_departement=Essonne", "« code_departement » est un code comme 91"),
        ("code_insee=9122", "« code_insee » est un code comme 91228"),
        ("page=1&page=2", "Paramètre « page » donné plusieurs fois."),
        ("sources=moi", "Paramètre inconnu : « sources » (possibles : page, taille, "
         "thematiques, publics, code_departement, code_insee"),
    ]:  # fmt: skip
        reponse = client_recherche.get(f"/api/v1/data-inclusion/services?{requete}")
        assert reponse.status_code == 400, requete
        assert message in reponse.get_json()["erreur"], reponse.get_json()
