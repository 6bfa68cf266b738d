"""The Meilisearch engine: what it sends and how it reads the answers.

No Meilisearch server runs in CI, so these tests check the pure parts and
talk to a stand-in that answers like Meilisearch's HTTP API. The shared
contract suite (test_recherche_contrat.py) runs on a real server when
MEILI_URL is set.
"""

from datetime import datetime

import pytest

from catalogue.recherche import RechercheIndisponible, Requete
from catalogue.recherche.langue import DEBUT_MARQUE, FIN_MARQUE
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
        ["places_restantes > 0", "session_ouverte = true"],
    ]


def test_un_statut_demande_remplace_les_actives_par_defaut():
    clauses = filtre(Requete(filtres={"statut": ("suspendue",)}))
    assert clauses == [['statut = "suspendue"']]


def test_le_rayon_garde_aussi_les_actions_a_distance():
    requete = Requete(point=(48.4308, 0.0921), rayon_km=12.5)
    assert filtre(requete)[-1] == [
        "_geoRadius(48.430800, 0.092100, 12500)",
        "a_distance = true",
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
        ("places", ["places_tri:desc"]),
        ("nom", ["nom_tri:asc"]),
        ("distance", ["_geoPoint(48.430800, 0.092100):asc"]),
    ],
)
def test_les_tris(tri, attendu):
    assert parametres(Requete(tri=tri, point=(48.4308, 0.0921)))["sort"] == attendu


def test_une_page_et_les_facettes_sont_demandees():
    p = parametres(Requete(texte="permis", page=3, par_page=10))
    assert (p["page"], p["hitsPerPage"], p["matchingStrategy"]) == (3, 10, "last")
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
    (corps,) = faux.envoyes("POST", "/indexes/fiches/search")
    assert corps["q"] == "permis"
    assert corps["filter"] == [['statut = "active"']]


def test_un_serveur_injoignable_leve_l_erreur_typee():
    meili = MoteurMeilisearch("http://127.0.0.1:9", None, "fiches", delai_s=1)
    with pytest.raises(RechercheIndisponible, match="recherche"):
        meili.rechercher(Requete(texte="permis"))


def test_sans_adresse_meilisearch_n_est_pas_configure():
    with pytest.raises(RechercheIndisponible, match="MEILI_URL"):
        MoteurMeilisearch(None, None, "fiches").empreintes()
