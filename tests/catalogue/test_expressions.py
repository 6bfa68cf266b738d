"""Synonym expressions of several words are indexed as one term each.

A phrase of common words ("bénéficiaires du RSA") reads the positions of
thousands of fiches; the term is one short list. It must find exactly the
fiches the phrase finds, and an expression added to the synonyms after the
index was built must still be found.
"""

from pathlib import Path

import pytest
from tantivy import Query

from catalogue.chargement import charger_catalogue
from catalogue.recherche import Requete, langue, moteur_tantivy
from catalogue.recherche.documents import documents
from catalogue.recherche.moteur_tantivy import (
    EXPRESSIONS,
    TOUT,
    MoteurTantivy,
    _cle_expression,
    _places_des_mots,
)

ROOT = Path(__file__).resolve().parents[2]

# Where a phrase query on TOUT finds an expression or not: across two values
# of a field (tantivy leaves one empty place between them), a word too long
# to be indexed in the place of a stop word, a word repeated, the last words.
TEXTES_PIEGES = {
    "piege-deux-valeurs": ["Pour les bénéficiaires", "RSA du département"],
    "piege-deux-valeurs-du": ["Pour les bénéficiaires", "du RSA"],
    "piege-mot-long": ["bénéficiaires " + "x" * 45 + " RSA"],
    "piege-repetition": ["bénéficiaires bénéficiaires du RSA, demandeurs d'emploi"],
    "piege-fin": ["Ouvert aux demandeurs d'"],
    "piege-accents": ["Bénéficiaires DU rsa ; Revenu de Solidarité Active"],
}


def _ids(moteur, requete) -> set[str]:
    searcher = moteur._searcher()
    trouves = searcher.search(requete, 10_000, count=False)
    return {moteur_tantivy._source(searcher.doc(a))["id"] for _s, a in trouves.hits}


@pytest.fixture(scope="module")
def index_reel(tmp_path_factory):
    """Every real fiche, and a few written to trap the matching."""
    reels = documents(charger_catalogue(ROOT / "data/fiches", ROOT / "data/structures"))
    pieges = [
        reels[0] | {"id": nom, "description": textes, "resume": ""}
        for nom, textes in TEXTES_PIEGES.items()
    ]
    moteur = MoteurTantivy(tmp_path_factory.mktemp("expressions") / "recherche")
    moteur.reconstruire([*reels, *pieges])
    return moteur


def test_chaque_expression_connue_trouve_les_fiches_de_sa_phrase(index_reel):
    schema = index_reel.schema
    trouvees = {}
    for forme in langue.formes_connues():
        places = _places_des_mots(forme)
        if len(places) < 2:
            continue
        cle = _cle_expression(places)
        par_phrase = _ids(index_reel, Query.phrase_query(schema, TOUT, places))
        par_terme = _ids(index_reel, Query.term_query(schema, EXPRESSIONS, cle))
        assert par_terme == par_phrase, cle
        trouvees[cle] = par_terme
    # The traps say what they should: the comparison above is not empty.
    rsa = trouvees["beneficiaires _ rsa"]
    assert {"piege-deux-valeurs", "piege-mot-long", "piege-repetition"} <= rsa
    assert {"piege-deux-valeurs-du", "piege-accents"} & rsa == {"piege-accents"}
    assert "piege-fin" not in trouvees["demandeurs _ emploi"]
    assert "piege-accents" in trouvees["revenu _ solidarite active"]
    assert sum(len(ids) for ids in trouvees.values()) > 50


def test_une_recherche_par_expression_donne_la_meme_page_que_par_phrase(
    index_reel, monkeypatch
):
    textes = ["bénéficiaires du RSA", "demandeurs d'emploi accompagnement", "brsa"]
    par_terme = [index_reel.rechercher(Requete(texte=t)) for t in textes]
    monkeypatch.setattr(index_reel, "_cles_indexees", frozenset())
    monkeypatch.setattr(index_reel, "_lire_cles", lambda: frozenset())
    par_phrase = [index_reel.rechercher(Requete(texte=t)) for t in textes]
    for terme, phrase in zip(par_terme, par_phrase, strict=True):
        assert terme.total == phrase.total > 0
        assert {r.id for r in terme.resultats} == {r.id for r in phrase.resultats}


@pytest.fixture
def nouveau_synonyme(monkeypatch):
    """« garage solidaire » becomes a synonym of « réparation automobile »."""
    caches = (
        langue._equivalences,
        langue._par_premier_mot,
        moteur_tantivy._expressions_connues,
        moteur_tantivy._cles_connues,
    )
    groupes = langue.synonymes()

    def ajouter():
        monkeypatch.setattr(
            langue,
            "synonymes",
            lambda: (*groupes, ("garage solidaire", "réparation automobile")),
        )
        for cache in caches:
            cache.cache_clear()

    yield ajouter
    monkeypatch.undo()
    for cache in caches:
        cache.cache_clear()


def test_une_expression_ajoutee_apres_l_index_se_trouve_encore(
    tmp_path, docs, nouveau_synonyme
):
    moteur = MoteurTantivy(tmp_path / "recherche")
    moteur.indexer(docs)
    nouveau_synonyme()  # the synonyms change, the index stays as it was
    requete = Requete(texte="garage solidaire")
    avant = [r.id for r in moteur.rechercher(requete).resultats]
    assert avant[0] == "mob-garage-evry"
    moteur.reconstruire(docs)
    assert [r.id for r in moteur.rechercher(requete).resultats] == avant
    # Now carried by every fiche, noted beside the index for every worker.
    notees = (moteur.dossier / moteur_tantivy.CLES_INDEXEES).read_text()
    assert "garage solidaire" in notees.split("\n")
