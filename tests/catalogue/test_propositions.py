"""An empty page's proposals: each one a search that finds something.

Without filters, the words anywhere and the place without words also give
the themes: the proposals must be those each search asked alone gives.
"""

import html
import re
from dataclasses import replace

import pytest
from sqlmodel import Session

from catalogue import places
from catalogue.recherche import Requete
from catalogue.recherche.propositions import (
    THEMES_PROPOSES,
    Proposition,
    Vocabulaire,
    proposer,
)

THEMES = ("categories_thematiques",)


def une_par_une(moteur, requete, mots_connus) -> list[Proposition]:
    """Every proposal from its own search, as the page first worked them out."""

    def total(r):
        return moteur.rechercher(replace(r, page=1, par_page=1, facettes=())).total

    trouvees = []
    if (correction := mots_connus.corriger(requete.texte)) and (
        n := total(replace(requete, texte=correction))
    ):
        trouvees.append(Proposition("orthographe", n, correction))
    ailleurs = replace(requete, zone=(), point=None, rayon_km=None)
    if requete.zone and (n := total(ailleurs)):
        trouvees.append(Proposition("sans_lieu", n))
    if requete.texte and (n := total(replace(requete, texte=""))):
        trouvees.append(Proposition("sans_mots", n))
    if requete.filtres and (n := total(replace(requete, filtres={}))):
        trouvees.append(Proposition("sans_filtres", n))
    if requete.places_disponibles and (
        n := total(replace(requete, places_disponibles=False))
    ):
        trouvees.append(Proposition("sans_places", n))
    themes = {}
    if requete.texte:
        partout = replace(ailleurs, filtres={}, page=1, par_page=1, facettes=THEMES)
        themes = moteur.rechercher(partout).facettes.get(THEMES[0], {})
    ici = replace(requete, texte="", filtres={}, page=1, par_page=1, facettes=THEMES)
    comptes = moteur.rechercher(ici).facettes.get(THEMES[0], {})
    choisis = [t for t in themes if comptes.get(t)] or list(comptes)
    trouvees += [Proposition("theme", comptes[t], t) for t in choisis[:THEMES_PROPOSES]]
    if not trouvees and requete.places_disponibles:
        # Nothing with « places left »: the same, the box unticked.
        return une_par_une(
            moteur, replace(requete, places_disponibles=False), mots_connus
        )
    return trouvees


ORNE, ALENCON = ("61", "61001"), (48.43, 0.09)


@pytest.mark.parametrize(
    "requete",
    [
        Requete(texte="astrophysique", zone=ORNE, point=ALENCON),
        Requete(texte="velo", zone=("54",)),
        Requete(texte="veko"),
        Requete(zone=ORNE, point=ALENCON, rayon_km=1),
        Requete(texte="velo", zone=("54",), filtres={"frais": ("payant",)}),
        Requete(texte="francais", filtres={"publics": ("seniors",)}),
        Requete(texte="garage", zone=ORNE, places_disponibles=True),
        Requete(texte="velo", places_disponibles=True),
        Requete(
            texte="astrophysique", zone=ORNE, point=ALENCON, places_disponibles=True
        ),
    ],
)
def test_les_propositions_sont_celles_de_chaque_recherche_seule(moteur, docs, requete):
    mots_connus = Vocabulaire.depuis(docs)
    attendues = une_par_une(moteur, requete, mots_connus)
    assert proposer(moteur, requete, mots_connus).propositions == attendues


def test_une_page_vide_faute_de_places_propose_les_actions_completes(
    app_recherche, client_recherche
):
    # The only bike action is full: with « places left » ticked, the empty
    # page offers it anyway (its waiting list is still a way in).
    with Session(app_recherche.extensions["db"]) as db:
        places.fixer(db, "mob-velos-alencon", 0, "prestataire@exemple.fr")
        db.commit()
    places.publier(
        app_recherche.extensions["db"], app_recherche.extensions["recherche"]
    )

    page = client_recherche.get("/?q=vélo&places_disponibles=1").get_data(as_text=True)
    assert "Aucune action trouvée" in page
    lien = re.search(
        r'<a href="([^"]+)">Aussi les actions sans place libre annoncée', page
    )
    assert lien and "places_disponibles" not in lien.group(1)
    suite = client_recherche.get(html.unescape(lien.group(1))).get_data(as_text=True)
    assert "/fiches/mob-velos-alencon" in suite


def test_quand_rien_ne_se_trouve_avec_des_places_les_propositions_decochent_la_case(
    app_recherche, client_recherche
):
    # No action at Évry has places left, and nothing is about astronomy:
    # each way out drops the words or the place, and the box too.
    with Session(app_recherche.extensions["db"]) as db:
        for fiche in ("fle-evry", "mob-garage-evry"):
            places.fixer(db, fiche, 0, "prestataire@exemple.fr")
        db.commit()
    places.publier(
        app_recherche.extensions["db"], app_recherche.extensions["recherche"]
    )

    page = client_recherche.get(
        "/?q=astrophysique&commune=Évry-Courcouronnes&places_disponibles=1"
    ).get_data(as_text=True)
    assert "Aucune action trouvée" in page
    lien = re.search(
        r'<a href="([^"]+)">À Évry-Courcouronnes \(91000\), sans « astrophysique », '
        r"même sans place libre annoncée</a> \((\d+) actions?\)",
        page,
    )
    assert lien, page
    assert "places_disponibles" not in lien.group(1)
    assert (
        "Thèmes proches à Évry-Courcouronnes (91000), même sans place libre annoncée"
        in page
    )
    suite = client_recherche.get(html.unescape(lien.group(1))).get_data(as_text=True)
    assert f"{lien.group(2)} action" in suite
