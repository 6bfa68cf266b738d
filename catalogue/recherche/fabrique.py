"""Build the configured engine (the only module that knows them all)."""

from collections.abc import Callable, Iterable, Mapping

from catalogue.recherche import MoteurRecherche, RechercheIndisponible
from catalogue.recherche.documents import synchroniser


def moteur_depuis_config(
    config: Mapping, source: Callable[[], Iterable[dict]] | None = None
) -> MoteurRecherche:
    """SEARCH_BACKEND "embarque" (default) or "meilisearch" (with a fallback);
    ``source``: every fiche's document, to fill a deleted embedded index."""
    from catalogue.recherche.moteur_tantivy import MoteurTantivy

    embarque = MoteurTantivy(config["SEARCH_PATH"])
    embarque.source = source
    backend = config.get("SEARCH_BACKEND") or "embarque"
    if backend == "embarque":
        return embarque
    if backend == "meilisearch":
        from catalogue.recherche.moteur_meilisearch import MoteurMeilisearch
        from catalogue.recherche.moteur_secours import Disjoncteur, MoteurAvecSecours

        meili = MoteurMeilisearch(
            config.get("MEILI_URL"),
            config.get("MEILI_API_KEY"),
            config["MEILI_INDEX"],
            delai_s=float(config.get("MEILI_TIMEOUT") or 0.5),
        )
        disjoncteur = Disjoncteur(
            pannes=int(config.get("MEILI_PANNES_AVANT_SECOURS") or 3),
            pause_s=float(config.get("MEILI_PAUSE_SECOURS") or 30),
        )
        return MoteurAvecSecours(meili, embarque, disjoncteur)
    raise ValueError(
        f"SEARCH_BACKEND inconnu : « {backend} » (valeurs : embarque, meilisearch)"
    )


def remplir_si_vide(moteur: MoteurRecherche, docs: list[dict], logger) -> None:
    """At start-up, index new and changed fiches (an empty index gets them all)."""
    try:
        synchroniser(moteur, docs, retirer=False)
    except RechercheIndisponible:
        logger.warning(
            "Index de recherche non rempli au démarrage : nouvel essai plus tard"
        )
