"""What people notice when they search, whatever engine answers.

Every test runs against the embedded engine, and against Meilisearch when
MEILI_URL points to a server.
"""

from datetime import datetime

import pytest

from catalogue.recherche import Requete
from catalogue.recherche.documents import document
from catalogue.territoires import referentiel

MOBILITE = {"mob-velos-alencon", "mob-permis-alencon", "mob-garage-evry"}
FLE = {"fle-alencon", "fle-evry"}


def ids(resultats) -> set[str]:
    return {r.id for r in resultats.resultats}


def dans_la_commune(nom: str, **autres) -> Requete:
    commune = referentiel().trouver(nom)
    return Requete(
        zone=commune.codes_zone, point=(commune.latitude, commune.longitude), **autres
    )


@pytest.mark.parametrize("texte", ["mobilte", "MOBILITE", "mobil", "Mobilité"])
def test_fautes_majuscules_et_mot_commence_trouvent_la_mobilite(moteur, texte):
    trouvees = ids(moteur.rechercher(Requete(texte=texte)))
    assert MOBILITE <= trouvees
    assert not FLE & trouvees


def test_fle_trouve_les_cours_de_francais_par_synonyme(moteur):
    assert ids(moteur.rechercher(Requete(texte="fle"))) == FLE


def test_taper_l_expression_entiere_trouve_aussi_le_sigle(moteur):
    # "FLE" is written only in the Évry fiche, the words only in Alençon's.
    trouvees = ids(moteur.rechercher(Requete(texte="français langue étrangère")))
    assert trouvees == FLE


@pytest.mark.parametrize(
    ("texte", "attendue"),
    [
        ("permis", "mob-permis-alencon"),
        ("garde enfant", "garde-enfants-argentan"),
        ("creche", "garde-enfants-argentan"),
        ("curiculum", "cv-sessions-alencon"),
    ],
)
def test_un_beneficiaire_trouve_avec_ses_mots(moteur, texte, attendue):
    assert attendue in ids(moteur.rechercher(Requete(texte=texte)))


def test_un_mot_absent_du_catalogue_ne_trouve_rien(moteur):
    resultats = moteur.rechercher(Requete(texte="astrophysique"))
    assert resultats.total == 0
    assert resultats.resultats == []


@pytest.mark.parametrize(
    ("texte", "ignores", "attendue"),
    [
        # A word found nowhere goes, and is reported as typed.
        ("vélo astrophysique", ("astrophysique",), "mob-velos-alencon"),
        # Words found apart: the last ones go until the others match.
        ("permis crèche", ("crèche",), "mob-permis-alencon"),
        ("Vélo astrophysique permis", ("astrophysique", "permis"), "mob-velos-alencon"),
        # Reported in the order typed.
        (
            "permis crèche astrophysique",
            ("crèche", "astrophysique"),
            "mob-permis-alencon",
        ),
    ],
)
def test_les_mots_qui_empechent_de_trouver_sont_ignores_et_dits(
    moteur, texte, ignores, attendue
):
    resultats = moteur.rechercher(Requete(texte=texte))
    assert resultats.mots_ignores == ignores
    assert attendue in ids(resultats)


def test_au_dela_de_dix_mots_les_suivants_sont_ignores_et_dits(moteur):
    texte = "prêt vélos " + " ".join(f"mot{i}" for i in range(12))
    resultats = moteur.rechercher(Requete(texte=texte))
    assert "mob-velos-alencon" in ids(resultats)
    assert resultats.mots_ignores == tuple(f"mot{i}" for i in range(12))


def test_aucun_mot_n_est_ignore_quand_tous_trouvent_ou_aucun(moteur):
    assert moteur.rechercher(Requete(texte="prêt vélos")).mots_ignores == ()
    rien = moteur.rechercher(Requete(texte="astrophysique quantique"))
    assert (rien.total, rien.mots_ignores) == (0, ())


def test_une_commune_de_l_orne_trouve_alencon_et_pas_l_essonne(moteur):
    trouvees = ids(moteur.rechercher(dans_la_commune("Écouves")))
    assert {"mob-velos-alencon", "mob-permis-alencon", "fle-alencon"} <= trouvees
    assert not {"mob-garage-evry", "fle-evry"} & trouvees
    # Its zone is the commune of Argentan only.
    assert "garde-enfants-argentan" not in trouvees


def test_une_commune_de_l_essonne_ne_voit_que_l_essonne(moteur):
    trouvees = ids(moteur.rechercher(dans_la_commune("Corbeil-Essonnes")))
    assert trouvees == {"mob-garage-evry", "fle-evry"}


def test_les_filtres_se_combinent_en_et_entre_facettes_et_en_ou_dans_une(moteur):
    vehicule = (
        "mobilite--acceder-a-un-vehicule",
        "mobilite--entretenir-reparer-son-vehicule",
    )
    ou = moteur.rechercher(Requete(filtres={"thematiques": vehicule}))
    assert ids(ou) == {"mob-velos-alencon", "mob-garage-evry"}
    et = moteur.rechercher(
        Requete(filtres={"thematiques": vehicule, "frais": ("payant",)})
    )
    assert ids(et) == {"mob-garage-evry"}


def test_les_comptes_des_facettes_sont_ceux_des_resultats(moteur, catalogue_recherche):
    resultats = moteur.rechercher(Requete(texte="mobilite", par_page=50))
    fiches = [catalogue_recherche.fiches[i] for i in ids(resultats)]
    assert resultats.total == len(fiches) == 3
    for facette in ("thematiques", "publics", "frais", "mobilisable_par", "categorie"):
        attendus: dict[str, int] = {}
        for fiche in fiches:
            valeurs = getattr(fiche, facette)
            for v in valeurs if isinstance(valeurs, list) else [valeurs]:
                attendus[v] = attendus.get(v, 0) + 1
        assert resultats.facettes[facette] == attendus
    assert resultats.facettes["categories_thematiques"] == {"mobilite": 3}


def test_une_place_prise_se_voit_a_la_recherche_suivante(moteur):
    moteur.maj_places("mob-velos-alencon", 3, datetime(2030, 1, 1, 9, 30))
    (velos,) = moteur.rechercher(Requete(texte="velo scooter")).resultats
    assert velos.places_restantes == 3
    assert velos.places_maj_le.startswith("2030-01-01")


def test_une_place_prise_par_une_instance_se_voit_dans_une_autre(fabrique, moteur):
    autre = fabrique()
    autre.rechercher(Requete(texte="velo"))  # warm, so nothing is re-read by chance
    moteur.maj_places("mob-velos-alencon", 0, datetime(2030, 1, 1, 9, 30))
    (velos,) = autre.rechercher(Requete(texte="velo")).resultats
    assert velos.complet
    assert "mob-velos-alencon" not in ids(
        autre.rechercher(Requete(places_disponibles=True))
    )


def test_les_places_disponibles_excluent_complet_et_non_suivi(moteur):
    trouvees = ids(moteur.rechercher(Requete(places_disponibles=True)))
    # Open sessions and no limit count as places; untracked places (None) do not.
    assert trouvees == {
        "mob-velos-alencon",
        "mob-garage-evry",
        "fle-evry",
        "garde-enfants-argentan",
        "cv-sessions-alencon",
        "numerique-a-distance",
    }


def test_une_action_sans_limite_de_places_reste_s_il_faut_des_places(moteur):
    # « Premiers pas sur internet » takes everyone: it always has room.
    internet = Requete(texte="internet", places_disponibles=True)
    assert ids(moteur.rechercher(internet)) == {"numerique-a-distance"}
    # Even when someone says none is left: the fiche says no limit.
    moteur.maj_places("numerique-a-distance", 0, datetime(2030, 1, 1, 9, 30))
    (resultat,) = moteur.rechercher(internet).resultats
    assert resultat.id == "numerique-a-distance"
    assert not resultat.complet
    ordre = [r.id for r in moteur.rechercher(Requete(tri="places")).resultats]
    assert ordre[0] == "numerique-a-distance"


def test_des_sessions_toutes_prises_ne_passent_plus_s_il_faut_des_places(moteur):
    # Its sessions are to come; counted, their places are all taken: full.
    cv = Requete(texte="curriculum", places_disponibles=True)
    assert "cv-sessions-alencon" in ids(moteur.rechercher(cv))
    moteur.maj_places("cv-sessions-alencon", 0, datetime(2030, 1, 1, 9, 30))
    assert "cv-sessions-alencon" not in ids(moteur.rechercher(cv))
    # Not counted any more: its open sessions vouch for places again.
    moteur.maj_places("cv-sessions-alencon", None, datetime(2030, 1, 1, 9, 31))
    assert "cv-sessions-alencon" in ids(moteur.rechercher(cv))


def test_une_action_complete_passe_apres_les_ouvertes_et_dit_depuis_quand(moteur):
    resultats = moteur.rechercher(Requete(texte="mobilite"))
    dernier = resultats.resultats[-1]
    assert dernier.id == "mob-permis-alencon"
    assert dernier.complet
    assert dernier.places_maj_le.startswith("2025-02-03")
    assert not any(r.complet for r in resultats.resultats[:-1])


def test_les_actions_suspendues_sont_cachees_sauf_si_on_les_demande(moteur):
    assert "mob-conseil-orne-suspendu" not in ids(moteur.rechercher(Requete()))
    suspendues = moteur.rechercher(Requete(filtres={"statut": ("suspendue",)}))
    assert ids(suspendues) == {"mob-conseil-orne-suspendu"}


def test_rayon_garde_les_lieux_proches_et_les_actions_a_distance(moteur):
    resultats = moteur.rechercher(dans_la_commune("Écouves", rayon_km=20))
    assert ids(resultats) == {
        "mob-velos-alencon",
        "mob-permis-alencon",
        "fle-alencon",
        "numerique-a-distance",
    }
    distances = {r.id: r.distance_km for r in resultats.resultats}
    assert distances["mob-velos-alencon"] == pytest.approx(8.9, abs=0.2)
    assert distances["numerique-a-distance"] is None


def test_rayon_garde_les_actions_sans_adresse_dont_la_zone_couvre_la_commune(
    moteur, catalogue_recherche
):
    # Met at « the usual place » of the Orne: no address in the fiche, none
    # for its structure. Within 20 km of Écouves, the Orne's one is offered
    # (its zone covers the town), the Essonne's one is not.
    garde = catalogue_recherche.fiches["garde-enfants-argentan"]
    sans_adresse = [
        document(
            garde.model_copy(
                update={
                    "id": f"sans-adresse-{code}",
                    "lieux": [],
                    "zone_eligibilite": [code],
                }
            ),
            None,
        )
        for code in ("61", "91")
    ]
    moteur.indexer(sans_adresse)
    resultats = moteur.rechercher(dans_la_commune("Écouves", rayon_km=20))
    assert "sans-adresse-61" in ids(resultats)
    assert "sans-adresse-91" not in ids(resultats)
    assert "mob-velos-alencon" in ids(resultats)
    assert "mob-garage-evry" not in ids(resultats)  # an address 150 km away
    # Nearest first: those with no address or done at a distance come last.
    par_distance = moteur.rechercher(
        dans_la_commune("Écouves", rayon_km=20, tri="distance")
    ).resultats
    assert {r.id for r in par_distance[-2:]} == {
        "numerique-a-distance",
        "sans-adresse-61",
    }
    assert all(r.distance_km is not None for r in par_distance[:-2])


def test_tri_par_distance_le_plus_proche_d_abord(moteur):
    resultats = moteur.rechercher(
        dans_la_commune("Bagnoles de l'Orne Normandie", tri="distance")
    )
    ordre = [r.id for r in resultats.resultats]
    assert ordre[0] == "cv-sessions-alencon"
    assert ordre[-1] == "numerique-a-distance"  # no distance: last


def test_tri_par_places_le_plus_de_places_d_abord_complet_en_dernier(moteur):
    ordre = [r.id for r in moteur.rechercher(Requete(tri="places")).resultats]
    # No limit comes before any number of places.
    assert ordre[:4] == [
        "numerique-a-distance",
        "mob-garage-evry",
        "fle-evry",
        "mob-velos-alencon",
    ]
    assert ordre[-1] == "mob-permis-alencon"


def test_tri_par_nom(moteur, catalogue_recherche):
    ordre = [r.id for r in moteur.rechercher(Requete(tri="nom")).resultats]
    noms = [catalogue_recherche.fiches[i].nom for i in ordre]
    assert noms[0] == "Atelier curriculum vitae"
    assert noms[-1] == "Prêt de vélos et de scooters"


def test_les_pages_se_suivent_sans_trou_ni_doublon(moteur):
    tout = moteur.rechercher(Requete(par_page=50))
    pages = [moteur.rechercher(Requete(page=p, par_page=3)) for p in (1, 2, 3)]
    assert [r.id for p in pages for r in p.resultats] == [r.id for r in tout.resultats]
    assert {p.total for p in pages} == {tout.total} == {8}
    assert moteur.rechercher(Requete(page=9, par_page=3)).resultats == []


def test_les_mots_trouves_sont_surlignes(moteur):
    (fiche,) = moteur.rechercher(Requete(texte="ateliers francais")).resultats
    assert "<mark>français" in fiche.surlignage["nom"]
    assert "<mark>Ateliers</mark>" in fiche.surlignage["nom"]


def test_reconstruire_retire_les_fiches_disparues_et_garde_les_places(moteur, docs):
    moteur.maj_places("fle-evry", 1, datetime(2030, 1, 1))
    moteur.reconstruire([d for d in docs if d["id"] != "mob-garage-evry"])
    assert "mob-garage-evry" not in moteur.empreintes()
    (fle,) = moteur.rechercher(Requete(texte="FLE adultes")).resultats
    assert fle.places_restantes == 1


def test_supprimer_une_fiche_la_retire_des_recherches(moteur):
    moteur.supprimer(["fle-evry"])
    assert ids(moteur.rechercher(Requete(texte="fle"))) == {"fle-alencon"}


def test_la_fiche_lit_les_places_que_l_operateur_vient_de_donner(moteur):
    moteur.maj_places("fle-evry", 3, datetime(2030, 1, 2, 14, 0))
    lues = moteur.places(["fle-evry", "inconnue"])
    assert set(lues) == {"fle-evry"}
    assert lues["fle-evry"]["places_restantes"] == 3
    assert lues["fle-evry"]["places_maj_le"].startswith("2030-01-02T14:00")
