"""The Meilisearch engine: what it sends and how it reads the answers.

No Meilisearch server runs in CI, so these tests check the pure parts and
talk to a stand-in that answers like Meilisearch's HTTP API. The shared
contract suite (test_recherche_contrat.py) runs on a real server when
MEILI_URL is set.
"""

from datetime import datetime

import pytest

from catalogue.recherche import (
    RechercheIndisponible,
    Requete,
    rechercher_avec_facettes_ouvertes,
)
from catalogue.recherche.langue import DEBUT_MARQUE, FIN_MARQUE, mots, mots_vides
from catalogue.recherche.moteur_meilisearch import (
    MoteurMeilisearch,
    cite,
    filtre,
    parametres,
    reglages,
    resultat,
)
from tests.catalogue.faux_meilisearch import FauxMeilisearch


@pytest.fixture
def faux(httpserver):
    faux = FauxMeilisearch()
    faux.url = faux.installer(httpserver)
    return faux


@pytest.fixture
def meili(faux):
    return MoteurMeilisearch(faux.url, "cle-de-test", "fiches")


# --- Pure parts -------------------------------------------------------------


def test_une_valeur_de_filtre_est_toujours_entre_guillemets_et_echappee():
    assert cite("mobilite") == '"mobilite"'
    assert cite('Maison "Nord" \\ sud') == '"Maison \\"Nord\\" \\\\ sud"'
    # A value cannot close its quotes and add a condition of its own.
    injection = 'x" OR statut = "suspendue'
    assert cite(injection) == '"x\\" OR statut = \\"suspendue"'


def test_filtres_en_ou_dans_une_facette_et_en_et_entre_facettes():
    requete = Requete(
        filtres={
            "thematiques": ("mobilite--preparer-un-permis", "famille--garde-denfants"),
            "publics": ("jeunes",),
        },
        zone=("61001", "61", "246100663"),
        places_disponibles=True,
    )
    assert filtre(requete) == [
        [
            'thematiques = "mobilite--preparer-un-permis"',
            'thematiques = "famille--garde-denfants"',
        ],
        ['publics = "jeunes"'],
        ['statut = "active"'],
        ['zone = "61001"', 'zone = "61"', 'zone = "246100663"'],
        [
            "places_restantes > 0",
            "(session_ouverte = true AND places_restantes IS NULL)",
            "places_illimitees = true",
        ],
    ]


def test_un_statut_demande_remplace_les_actives_par_defaut():
    clauses = filtre(Requete(filtres={"statut": ("suspendue",)}))
    assert clauses == [['statut = "suspendue"']]


def test_le_rayon_garde_aussi_les_actions_a_distance_et_sans_adresse():
    requete = Requete(point=(48.4308, 0.0921), rayon_km=12.5)
    assert filtre(requete)[-1] == [
        "_geoRadius(48.430800, 0.092100, 12500)",
        "a_distance = true",
        "sans_lieu = true",
    ]


def test_reglages_de_l_index():
    r = reglages()
    for champ in (
        "publics",
        "thematiques",
        "categories_thematiques",
        "categorie",
        "type",
        "zone",
        "places_restantes",
        "mobilisable_par",
        "frais",
        "modes_accueil",
        "statut",
        "a_distance",
        "sans_lieu",
        "_geo",
    ):
        assert champ in r["filterableAttributes"]
    assert r["searchableAttributes"][0] == "nom"
    assert "zone" not in r["searchableAttributes"]  # codes are never typo-matched
    assert r["faceting"]["sortFacetValuesBy"] == {"*": "count"}
    assert r["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 5, "twoTypos": 9}
    assert "revenu de solidarité active" in r["synonyms"]["rsa"]
    assert r["synonyms"]["revenu de solidarité active"] == ["rsa"]
    assert "fle" in r["synonyms"]["français langue étrangère"]
    # The thesaurus goes one way: "sdf" finds "sans domicile", not the reverse.
    assert "sans domicile" in r["synonyms"]["sdf"]
    assert "sdf" not in r["synonyms"].get("sans domicile", [])
    assert "Garde d’enfants" in r["synonyms"]["nounou"]
    assert {"de", "à", "a", "l"} <= set(r["stopWords"])
    assert r["rankingRules"][0] == "sort"


@pytest.mark.parametrize(
    ("tri", "attendu"),
    [
        ("pertinence", ["complet:asc"]),
        ("places", ["places_illimitees:desc", "places_tri:desc"]),
        ("nom", ["nom_tri:asc"]),
        ("distance", ["_geoPoint(48.430800, 0.092100):asc"]),
    ],
)
def test_les_tris(tri, attendu):
    assert parametres(Requete(tri=tri, point=(48.4308, 0.0921)))["sort"] == attendu


def test_une_page_et_les_facettes_sont_demandees():
    p = parametres(Requete(texte="permis", page=3, par_page=10))
    assert (p["page"], p["hitsPerPage"], p["matchingStrategy"]) == (3, 10, "all")
    assert "thematiques" in p["facets"]
    assert p["attributesToHighlight"] == ["nom", "resume"]


def test_un_resultat_surligne_sans_laisser_passer_de_html():
    hit = {
        "id": "fle-alencon",
        "lieux": [{"lat": 48.4308, "lng": 0.0921}, {"lat": 48.7263, "lng": -0.0128}],
        "places_restantes": 0,
        "places_maj_le": "2026-11-20T10:00:00",
        "_formatted": {
            "nom": f"Ateliers de {DEBUT_MARQUE}français{FIN_MARQUE} <script>",
            "resume": "Apprendre",
        },
        "_geoDistance": 8912,
    }
    r = resultat(hit, (48.51, 0.1055))
    assert r.surlignage["nom"] == "Ateliers de <mark>français</mark> &lt;script&gt;"
    assert r.distance_km == pytest.approx(8.9, abs=0.1)  # the nearest lieu
    assert r.complet


# --- Against the HTTP stand-in ----------------------------------------------


def test_une_tache_en_echec_leve_l_erreur_typee(faux, meili, docs):
    faux.index["fiches"] = {}
    faux.echec = {
        "message": "The `_geo` field in the document with the id: `x` is not valid.",
        "code": "invalid_document_geo_field",
        "type": "invalid_request",
        "link": "https://docs.meilisearch.com/errors#invalid_document_geo_field",
    }
    with pytest.raises(RechercheIndisponible, match="_geo"):
        meili.supprimer(["mob-velos-alencon"])


def test_reconstruire_remplit_un_nouvel_index_puis_l_echange(faux, meili, docs):
    faux.index["fiches"] = {"ancienne": {"id": "ancienne"}}
    avancement = []
    meili.reconstruire(docs, progression=avancement.append)
    assert faux.envoyes("POST", "/swap-indexes") == [
        [{"indexes": ["fiches", "fiches_neuf"]}]
    ]
    (envoyes,) = faux.envoyes("POST", "/indexes/fiches_neuf/documents")
    assert {d["id"] for d in envoyes} == {d["id"] for d in docs}
    assert set(faux.index["fiches"]) == {d["id"] for d in docs}
    assert "fiches_neuf" not in faux.index  # the old data went with it
    assert avancement == [len(docs)]
    assert faux.envoyes("PATCH", "/indexes/fiches_neuf/settings") == [reglages()]


def test_reconstruire_garde_les_places_plus_recentes_que_le_yaml(faux, meili, docs):
    faux.index["fiches"] = {
        "fle-evry": {
            "id": "fle-evry",
            "places_restantes": 1,
            "places_maj_le": "2030-01-01T09:00:00",
        }
    }
    meili.reconstruire(docs)
    assert faux.index["fiches"]["fle-evry"]["places_restantes"] == 1


def test_une_place_prise_n_envoie_que_les_champs_des_places(faux, meili):
    faux.index["fiches"] = {"fle-evry": {"id": "fle-evry", "nom": "Cours"}}
    meili.maj_places("fle-evry", 0, datetime(2030, 1, 1, 9, 30))
    (envoye,) = faux.envoyes("PUT", "/indexes/fiches/documents")
    assert envoye == [
        {
            "id": "fle-evry",
            "places_restantes": 0,
            "places_maj_le": "2030-01-01T09:30:00",
            "complet": True,
            "places_tri": -1,
        }
    ]
    assert faux.index["fiches"]["fle-evry"]["nom"] == "Cours"


def test_une_place_sur_une_action_sans_limite_ne_la_dit_pas_complete(faux, meili):
    faux.index["fiches"] = {
        "job91": {"id": "job91", "nom": "Job91", "places_illimitees": True}
    }
    meili.maj_places("job91", 0, datetime(2030, 1, 1, 9, 30))
    (envoye,) = faux.envoyes("PUT", "/indexes/fiches/documents")
    assert envoye[0]["places_restantes"] is None
    assert envoye[0]["complet"] is False
    assert envoye[0]["places_tri"] > 100_000  # before any number of places


def test_une_place_sur_une_fiche_supprimee_ne_la_recree_pas(faux, meili):
    faux.index["fiches"] = {}
    meili.maj_places("disparue", 2, datetime(2030, 1, 1))
    assert faux.index["fiches"] == {}


def test_la_reponse_de_recherche_devient_des_resultats(faux, meili):
    faux.index["fiches"] = {}
    faux.reponse_recherche = {
        "hits": [
            {
                "id": "mob-permis-alencon",
                "lieux": [{"lat": 48.4308, "lng": 0.0921}],
                "places_restantes": 0,
                "places_maj_le": "2025-02-03",
                "_geoDistance": 0,
                "_formatted": {
                    "nom": "Auto-école sociale",
                    "resume": f"Le code et la {DEBUT_MARQUE}conduite{FIN_MARQUE}",
                },
            }
        ],
        "query": "permis",
        "processingTimeMs": 1,
        "hitsPerPage": 20,
        "page": 1,
        "totalPages": 1,
        "totalHits": 1,
        "facetDistribution": {"thematiques": {"mobilite--preparer-un-permis": 1}},
        "facetStats": {},
    }
    resultats = meili.rechercher(Requete(texte="permis", point=(48.4308, 0.0921)))
    assert resultats.total == 1
    (r,) = resultats.resultats
    assert r.surlignage["resume"].endswith("la <mark>conduite</mark>")
    assert r.distance_km == 0
    assert resultats.facettes["thematiques"] == {"mobilite--preparer-un-permis": 1}
    assert resultats.facettes["publics"] == {}
    ((corps,),) = [e["queries"] for e in faux.envoyes("POST", "/multi-search")]
    assert corps["q"] == "permis"
    assert corps["filter"] == [['statut = "active"']]


def test_un_serveur_injoignable_leve_l_erreur_typee():
    meili = MoteurMeilisearch("http://127.0.0.1:9", None, "fiches", delai_s=1)
    with pytest.raises(RechercheIndisponible, match="recherche"):
        meili.rechercher(Requete(texte="permis"))


def test_sans_adresse_meilisearch_n_est_pas_configure():
    with pytest.raises(RechercheIndisponible, match="MEILI_URL"):
        MoteurMeilisearch(None, None, "fiches").empreintes()


# --- Words left out, as the embedded engine leaves them out -----------------

# The stand-in's catalogue: a fiche is found when it has every word searched.
MOTS_DES_FICHES = {
    "mob-velos-alencon": "atelier de prêt de vélos vélo scooter",
    "cv-sessions-alencon": "atelier curriculum vitae",
    "fle-evry": "cours de français pour adultes",
}


def chercher_par_mots(corps: dict) -> dict:
    voulus = set(mots(corps["q"])) - mots_vides()
    ids = [i for i, t in MOTS_DES_FICHES.items() if voulus <= set(mots(t))]
    compte_seul = corps.get("hitsPerPage") == 0
    return {
        "hits": [] if compte_seul else [{"id": i} for i in ids],
        "totalHits": len(ids),
        "facetDistribution": {"publics": {"jeunes": len(ids)}} if ids else {},
    }


@pytest.fixture
def faux_qui_cherche(faux):
    faux.index["fiches"] = {}
    faux.chercher = chercher_par_mots
    return faux


def allers_retours(faux) -> list[list[tuple[str, int]]]:
    """Each multi-search request: its searches' text and page size."""
    return [
        [(q["q"], q["hitsPerPage"]) for q in envoi["queries"]]
        for envoi in faux.envoyes("POST", "/multi-search")
    ]


def test_tous_les_mots_trouvent_en_un_aller_retour(faux_qui_cherche, meili):
    resultats = meili.rechercher(Requete(texte="atelier vélo"))
    assert [r.id for r in resultats.resultats] == ["mob-velos-alencon"]
    assert resultats.mots_ignores == ()
    assert allers_retours(faux_qui_cherche) == [[("atelier vélo", 20)]]
    (envoi,) = faux_qui_cherche.envoyes("POST", "/multi-search")
    assert envoi["queries"][0]["matchingStrategy"] == "all"


def test_au_dela_de_dix_mots_meilisearch_ne_recoit_que_les_dix_premiers(
    faux_qui_cherche, meili
):
    texte = "atelier vélo " + " ".join(f"atelier{i}" for i in range(10))
    resultats = meili.rechercher(Requete(texte=texte))
    assert resultats.mots_ignores[-2:] == ("atelier8", "atelier9")
    premier_envoi = allers_retours(faux_qui_cherche)[0][0][0]
    assert premier_envoi.split() == texte.split()[:10]


def test_un_mot_introuvable_est_ignore_et_dit_tel_qu_il_est_tape(
    faux_qui_cherche, meili
):
    resultats = meili.rechercher(Requete(texte="atelier astrophysique vélo"))
    assert resultats.mots_ignores == ("astrophysique",)
    assert [r.id for r in resultats.resultats] == ["mob-velos-alencon"]
    assert resultats.total == 1
    # Every word; then each word alone and the text's beginning, counted
    # only (a word followed by a space is not a beginning for Meilisearch);
    # then the page without the unknown word.
    assert allers_retours(faux_qui_cherche) == [
        [("atelier astrophysique vélo", 20)],
        [
            ("atelier ", 0),
            ("astrophysique ", 0),
            ("vélo", 0),
            ("atelier astrophysique ", 0),
        ],
        [("atelier vélo", 20)],
    ]


def test_des_mots_trouves_chacun_de_leur_cote_perdent_les_derniers(
    faux_qui_cherche, meili
):
    resultats = meili.rechercher(Requete(texte="Vélo curriculum adultes"))
    assert resultats.mots_ignores == ("curriculum", "adultes")
    assert [r.id for r in resultats.resultats] == ["mob-velos-alencon"]
    assert allers_retours(faux_qui_cherche)[1:] == [
        [("Vélo ", 0), ("curriculum ", 0), ("adultes", 0), ("Vélo curriculum ", 0)],
        [("Vélo ", 20)],
    ]


def test_un_mot_inconnu_et_des_mots_qui_ne_vont_pas_ensemble(faux_qui_cherche, meili):
    resultats = meili.rechercher(Requete(texte="vélo astrophysique français"))
    assert resultats.mots_ignores == ("astrophysique", "français")
    assert [r.id for r in resultats.resultats] == ["mob-velos-alencon"]
    # The page without the unknown word finds nothing: one more trip.
    assert allers_retours(faux_qui_cherche)[2:] == [
        [("vélo français", 20)],
        [("vélo ", 20)],
    ]


def test_une_expression_du_thesaurus_compte_pour_un_seul_mot(faux_qui_cherche, meili):
    resultats = meili.rechercher(Requete(texte="français langue étrangère vélo"))
    # Dropped as one unit, and counted as one: "français langue étrangère".
    assert resultats.mots_ignores == ("français langue étrangère",)
    assert allers_retours(faux_qui_cherche)[1] == [
        ("français langue étrangère ", 0),
        ("vélo", 0),
    ]


def test_aucun_mot_trouve_n_en_ignore_aucun(faux_qui_cherche, meili):
    resultats = meili.rechercher(Requete(texte="astrophysique quantique"))
    assert (resultats.total, resultats.mots_ignores) == (0, ())
    assert len(allers_retours(faux_qui_cherche)) == 2


def test_les_comptes_des_filtres_coches_suivent_les_mots_gardes(
    faux_qui_cherche, meili
):
    requete = Requete(texte="atelier astrophysique", filtres={"publics": ("jeunes",)})
    resultats = rechercher_avec_facettes_ouvertes(meili, requete)
    assert resultats.mots_ignores == ("astrophysique",)
    assert resultats.facettes["publics"] == {"jeunes": 2}
    dernier = faux_qui_cherche.envoyes("POST", "/multi-search")[-1]["queries"]
    assert [q["q"] for q in dernier] == ["atelier ", "atelier "]
    assert dernier[1]["facets"] == ["publics"]
    # The counts use the person's filters.
    (compte,) = [
        q
        for e in faux_qui_cherche.envoyes("POST", "/multi-search")
        for q in e["queries"]
        if q["q"] == "astrophysique"
    ]
    assert ['publics = "jeunes"'] in compte["filter"]


def test_la_page_et_l_api_disent_les_mots_que_meilisearch_a_ignores(
    faux_qui_cherche, creer_app_recherche
):
    app = creer_app_recherche(
        SEARCH_BACKEND="meilisearch", MEILI_URL=faux_qui_cherche.url
    )
    client = app.test_client()
    corps = client.get("/api/v1/fiches?q=atelier astrophysique vélo").get_json()
    assert corps["mots_ignores"] == ["astrophysique"]
    assert [r["id"] for r in corps["resultats"]] == ["mob-velos-alencon"]
    assert "avertissement" not in corps  # Meilisearch answered, not the fallback
    page = client.get("/", query_string={"q": "atelier astrophysique vélo"}).text
    assert "« astrophysique » a été ignoré" in page
    assert 'href="/fiches/mob-velos-alencon"' in page
