"""Synonym expressions of several words are indexed as one term each.

A phrase of common words ("bénéficiaires du RSA") reads the positions of
thousands of fiches; the term is one short list. It must find exactly the
fiches the phrase finds, and an expression added to the synonyms after the
index was built must still be found.
"""

from datetime import UTC, datetime
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
    # tantivy ends a value after its last word indexed: a word too long at
    # the end of a value gives its place back.
    "piege-long-en-fin": ["Pour les bénéficiaires " + "x" * 45, "RSA du département"],
    "piege-long-ecrit": ["bénéficiaires " + "é" * 20, "RSA"],  # 40 bytes
    "piege-long-seul": ["bénéficiaires", "x" * 45, "du RSA"],
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
    rsa = trouvees["beneficiaires+_+rsa"]
    assert {
        "piege-deux-valeurs",
        "piege-mot-long",
        "piege-repetition",
        "piege-long-en-fin",
        "piege-long-ecrit",
    } <= rsa
    assert {"piege-deux-valeurs-du", "piege-accents"} & rsa == {"piege-accents"}
    assert "piege-long-seul" not in rsa
    assert "piege-fin" not in trouvees["demandeurs+_+emploi"]
    assert "piege-accents" in trouvees["revenu+_+solidarite+active"]
    assert sum(len(ids) for ids in trouvees.values()) > 50


def _pages(moteur, textes):
    return [
        (r.total, [x.id for x in r.resultats], r.facettes)
        for t in textes
        for r in (
            moteur.rechercher(Requete(texte=t)),
            moteur.rechercher(Requete(texte=f"{t} accompagnement", page=2)),
        )
    ]


def test_chaque_expression_donne_la_meme_page_que_par_sa_phrase(
    index_reel, monkeypatch
):
    # Same fiches, same order, same counts: the term is scored as the phrase.
    textes = sorted({" ".join(f) for f in langue.formes_connues() if len(f) > 1})
    par_terme = _pages(index_reel, textes)
    monkeypatch.setattr(index_reel, "_cles_indexees", frozenset())
    monkeypatch.setattr(index_reel, "_lire_cles", lambda: frozenset())
    par_phrase = _pages(index_reel, textes)
    assert sum(total > 0 for total, _ids, _f in par_phrase) > 50
    differentes = [
        (texte, terme[1][:5], phrase[1][:5])
        for texte, terme, phrase in zip(
            [t for t in textes for _ in range(2)], par_terme, par_phrase, strict=True
        )
        if terme != phrase
    ]
    assert differentes == []


@pytest.fixture
def nouveau_synonyme(monkeypatch):
    """« garage solidaire » becomes a synonym of « réparation automobile »
    (``True``), or is not one (``False``)."""
    caches = (
        langue._equivalences,
        langue._par_premier_mot,
        moteur_tantivy._expressions_connues,
        moteur_tantivy._cles_connues,
    )
    groupes = langue.synonymes()

    def synonyme(present: bool):
        nouveau = (("garage solidaire", "réparation automobile"),) if present else ()
        monkeypatch.setattr(langue, "synonymes", lambda: (*groupes, *nouveau))
        for cache in caches:
            cache.cache_clear()

    yield synonyme
    monkeypatch.undo()
    for cache in caches:
        cache.cache_clear()


def test_une_expression_ajoutee_apres_l_index_se_trouve_encore(
    tmp_path, docs, nouveau_synonyme
):
    moteur = MoteurTantivy(tmp_path / "recherche")
    moteur.indexer(docs)
    nouveau_synonyme(True)  # the synonyms change, the index stays as it was
    requete = Requete(texte="garage solidaire")
    avant = [r.id for r in moteur.rechercher(requete).resultats]
    assert avant[0] == "mob-garage-evry"
    moteur.reconstruire(docs)
    assert [r.id for r in moteur.rechercher(requete).resultats] == avant
    # Now carried by every fiche, noted beside the index for every worker.
    notees = (moteur.dossier / moteur_tantivy.CLES_INDEXEES).read_text()
    assert "garage+solidaire" in notees.split("\n")


def test_une_fiche_ecrite_sans_le_synonyme_se_trouve_encore(
    tmp_path, docs, nouveau_synonyme
):
    # Deploying: the new version rebuilt the index with the synonym, a worker
    # of the old one, without it, still takes a place at the garage.
    moteur = MoteurTantivy(tmp_path / "recherche")
    nouveau_synonyme(True)
    moteur.reconstruire(docs)
    requete = Requete(texte="garage solidaire")
    avant = [r.id for r in moteur.rechercher(requete).resultats]
    assert avant[0] == "mob-garage-evry"
    nouveau_synonyme(False)
    ancien = MoteurTantivy(tmp_path / "recherche")
    ancien.maj_places("mob-garage-evry", 3, datetime(2030, 1, 1, tzinfo=UTC))
    nouveau_synonyme(True)
    apres = moteur.rechercher(requete).resultats
    assert [r.id for r in apres] == avant
    assert apres[0].places_restantes == 3


def test_une_liste_d_expressions_illisible_fait_chercher_par_phrases(tmp_path, docs):
    moteur = MoteurTantivy(tmp_path / "recherche")
    moteur.reconstruire(docs)
    requete = Requete(texte="demandeurs d'emploi")
    attendus = [r.id for r in moteur.rechercher(requete).resultats]
    assert attendus
    (moteur.dossier / moteur_tantivy.CLES_INDEXEES).write_bytes(
        "bénéficiaires".encode("latin-1")
    )
    autre = MoteurTantivy(tmp_path / "recherche")  # another worker
    assert [r.id for r in autre.rechercher(requete).resultats] == attendus
    autre.reconstruire(docs)  # and the rebuild writes it again
    assert "demandeurs+_+emploi" in autre._lire_cles()


def test_des_caches_de_mots_qui_debordent_donnent_le_meme_index(
    tmp_path, docs, monkeypatch
):
    # A big `make index` fills the per-process word caches; emptied in the
    # middle of a fiche, they must still give the same words and beginnings.
    textes = ["accompagn", "mob", "fo", "bénéficiaires du RSA", "français langue"]
    # One indexing thread: two would place documents, and so ties, anyhow.
    monkeypatch.setattr(moteur_tantivy, "FILS_RECONSTRUCTION", 1)
    normal = MoteurTantivy(tmp_path / "normal")
    normal.reconstruire(docs)
    attendues = _pages(normal, textes)

    for cache in (moteur_tantivy._JETONS, moteur_tantivy._VALEURS):
        monkeypatch.setattr(type(cache), "TAILLE_MAX", 3)
        cache.clear()
    deborde = MoteurTantivy(tmp_path / "deborde")
    deborde.reconstruire(docs)
    assert _pages(deborde, textes) == attendues
