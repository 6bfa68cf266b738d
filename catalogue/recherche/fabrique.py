"""Build the configured engine (the only module that knows them all)."""

from collections.abc import Mapping

from catalogue.recherche import MoteurRecherche, RechercheIndisponible


def moteur_depuis_config(config: Mapping) -> MoteurRecherche:
    """SEARCH_BACKEND "embarque" (default) or "meilisearch" (with a fallback)."""
    from catalogue.recherche.moteur_sqlite import MoteurSQLite

    embarque = MoteurSQLite(config["SEARCH_PATH"])
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
    """Index the catalogue at start-up when the index holds nothing yet."""
    try:
        if not moteur.empreintes():
            moteur.indexer(docs)
    except RechercheIndisponible:
        logger.exception("Index de recherche non rempli au démarrage")
