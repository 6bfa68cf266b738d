"""Places as people say them: départements, EPCI, postcodes, "St", typos."""

import pytest

from catalogue.territoires import commune_habitee, en_toutes_lettres, referentiel

CATALOGUE = {"61", "91"}  # where the fixture catalogue has actions
LIMOURS = "Communauté de communes du Pays de Limours (CCPL)"


def resoudre(texte: str):
    return referentiel().lieux.resoudre(texte, CATALOGUE)


@pytest.mark.parametrize("texte", ["Essonne", "essonne", "91", "Essonne (91)"])
def test_un_departement_par_son_nom_ou_son_numero(texte):
    lieu = resoudre(texte).lieu
    assert (lieu.genre, lieu.code, lieu.libelle) == (
        "departement",
        "91",
        "Essonne (91)",
    )
    assert "91228" in lieu.codes_zone  # Évry-Courcouronnes lies in it


def test_un_code_postal_passe_avant_la_commune_dont_c_est_le_code_insee():
    # 54100 is Nancy's postcode and Brin-sur-Seille's INSEE code.
    resolution = resoudre("54100")
    assert resolution.lieu.libelle == "Nancy (54100)"
    assert "Brin-sur-Seille (54280)" in [a.libelle for a in resolution.autres]
    # An INSEE code that is no postcode still finds its commune.
    assert resoudre("54395").lieu.libelle == "Nancy (54000)"


@pytest.mark.parametrize(
    ("texte", "attendue"),
    [
        ("54 000", "Nancy (54000)"),  # spaces inside the code
        (" 54 100 ", "Nancy (54100)"),
        ("2a004", "Ajaccio (20000)"),  # Corsican INSEE code in lower case
        ("75016", "Paris (75016)"),  # named with the postcode typed
        ("Paris (75016)", "Paris (75016)"),  # and read back as it is
        ("Evry (91000)", "Évry-Courcouronnes (91000)"),  # the old name
        ("Evry 91000", "Évry-Courcouronnes (91000)"),  # as on an envelope
        ("61000, Alencon", "Alençon (61000)"),
        # A postcode of another town: the name, in the postcode's département.
        ("Corbeil 91000", "Corbeil-Essonnes (91100)"),
        ("Evry 89000", "Évry (89140)"),
        ("Oeuilly", "Œuilly (51480)"),
        ("CŒUVRES-ET-VALSERY (02600)", "Cœuvres-et-Valsery (02600)"),
        ("Ev\u00adry", "Évry-Courcouronnes (91000)"),  # a pasted soft hyphen
        # A groupement by its short name, with or without its acronym.
        ("CC du Pays de Limours", LIMOURS),
        ("CC du Pays de Limours (CCPL)", LIMOURS),
    ],
)
def test_un_code_se_lit_comme_les_gens_l_ecrivent(texte, attendue):
    assert resoudre(texte).lieu.libelle == attendue


@pytest.mark.parametrize(
    ("texte", "code"),
    [
        ("Paris-Saclay", "200056232"),
        ("communauté paris saclay", "200056232"),
        ("Cœur d'Essonne", "200057859"),
        ("Grand Paris Sud", "200059228"),
        ("Val d'Essonne", "249100546"),
        ("CCVE", "249100546"),
        ("Pays de Limours", "249100074"),
        ("Dourdannais en Hurepoix", "249100595"),
    ],
)
def test_un_groupement_se_trouve_par_le_nom_qu_on_lui_donne(texte, code):
    # The referential has « CA Communauté Paris-Saclay »; people say
    # « Paris-Saclay », or the acronym a CC goes by.
    lieu = resoudre(texte).lieu
    assert (lieu.genre, lieu.code) == ("epci", code)


@pytest.mark.parametrize(
    ("texte", "attendue"),
    [("Agen", "Agen (47000)"), ("Saint-Quentin", "Saint-Quentin (02100)")],
)
def test_une_commune_reste_la_commune_meme_si_un_groupement_porte_son_nom(
    texte, attendue
):
    # « CA Agglomération d'Agen » is « Agen » too: the town keeps its name.
    assert resoudre(texte).lieu.libelle == attendue


def test_chaque_lieu_se_relit_par_son_nom_affiche():
    # The search box and the links to other places carry a place's label:
    # read back, it must be that place, not a commune of the same name
    # ("Doubs (25)"), nor nothing (an EPCI's acronym in brackets).
    lieux = referentiel().lieux
    tous = [
        *(lieux.departement(code) for code in referentiel().departements),
        *(lieux.epci(code) for code in lieux.communes_de_l_epci),
        *(
            lieux.commune(c, cp)
            for c in referentiel().communes.values()
            for cp in c.codes_postaux or [None]
        ),
    ]
    relus = [resoudre(lieu.libelle).lieu for lieu in tous]
    assert [
        (lieu.libelle, relu and relu.libelle)
        for lieu, relu in zip(tous, relus, strict=True)
        if relu is None or (relu.genre, relu.code) != (lieu.genre, lieu.code)
    ] == []
    assert len(tous) > 36_000


@pytest.mark.parametrize(
    ("texte", "attendue"),
    [
        ("Doubs (25)", "departement"),
        ("Doubs (25300)", "commune"),
        ("Communauté de communes du Pays de Limours (CCPL)", "epci"),
    ],
)
def test_un_departement_n_est_pas_pris_pour_sa_commune_homonyme(texte, attendue):
    assert resoudre(texte).lieu.genre == attendue


def test_deux_groupements_du_meme_nom_se_distinguent_par_leur_departement():
    resolution = resoudre("Communauté de communes des Quatre Rivières")
    assert {resolution.lieu.libelle, *(a.libelle for a in resolution.autres)} >= {
        "Communauté de communes des Quatre Rivières (70)",
        "Communauté de communes des Quatre Rivières (74)",
    }


def test_quatre_chiffres_sont_un_code_en_cours_de_frappe():
    # "6100" is on its way to 61000 (the search runs as one types): not Nice.
    assert resoudre("6100").lieu is None
    assert referentiel().trouver("6100") is None
    assert "Alençon" in [c.nom for c in referentiel().suggerer("6100")]
    assert "Nancy" in [c.nom for c in referentiel().suggerer("54 0")]


@pytest.mark.parametrize(
    ("code", "commune"), [("61500", "Sées"), ("13001", "Marseille"), ("54100", "Nancy")]
)
def test_le_formulaire_lit_un_code_comme_la_recherche(code, commune):
    # The booking form checks the person's commune with `trouver`: the same
    # code must be the same commune as on the search page.
    assert referentiel().trouver(code).nom == commune
    assert resoudre(code).lieu.libelle.startswith(commune)


def test_evry_va_ou_le_catalogue_a_des_actions_et_propose_les_autres():
    resolution = resoudre("Evry")
    assert resolution.lieu.libelle == "Évry-Courcouronnes (91000)"
    assert "Évry (89140)" in [a.libelle for a in resolution.autres]


@pytest.mark.parametrize(
    ("texte", "attendue"),
    [
        ("St Germain du Corbeis", "Saint-Germain-du-Corbéis (61000)"),
        ("saint-germain-du-corbéis", "Saint-Germain-du-Corbéis (61000)"),
        ("ALENCON", "Alençon (61000)"),
        ("61000", "Alençon (61000)"),
        ("CU d'Alençon", "Communauté urbaine d'Alençon"),
        ("communauté urbaine d'Alençon", "Communauté urbaine d'Alençon"),
    ],
)
def test_accents_tirets_st_et_codes_postaux_sont_compris(texte, attendue):
    assert resoudre(texte).lieu.libelle == attendue


@pytest.mark.parametrize(
    ("court", "en_lettres"),
    [
        ("CU d'Alençon", "Communauté urbaine d'Alençon"),
        ("CA Grand Paris Sud Seine Essonne Sénart", "Communauté d'agglomération "
         "Grand Paris Sud Seine Essonne Sénart"),
        ("CC du Val d'Essonne", "Communauté de communes du Val d'Essonne"),
        ("Métropole du Grand Nancy", "Métropole du Grand Nancy"),
    ],
)  # fmt: skip
def test_les_groupements_de_communes_sont_ecrits_en_toutes_lettres(court, en_lettres):
    assert en_toutes_lettres(court) == en_lettres


@pytest.mark.parametrize(
    ("texte", "suggeree"),
    [
        ("Alenson", "Alençon (61000)"),
        ("Nanci", "Nancy (54000)"),
        # Close to the first word of a longer name, in the catalogue's
        # département: before Évry (89140), the one letter away.
        ("Evri", "Évry-Courcouronnes (91000)"),
        ("Corbeil Esonne", "Corbeil-Essonnes (91100)"),
    ],
)
def test_une_faute_de_frappe_propose_le_bon_lieu(texte, suggeree):
    resolution = resoudre(texte)
    assert resolution.lieu is None
    assert resolution.suggestions[0].libelle == suggeree


def test_chercher_dans_l_essonne_trouve_les_actions_de_l_essonne(client_recherche):
    corps = client_recherche.get("/api/v1/fiches?commune=Essonne").get_json()
    assert {r["id"] for r in corps["resultats"]} == {"mob-garage-evry", "fle-evry"}


def test_evry_trouve_l_essonne_et_propose_l_evry_de_l_yonne(client_recherche):
    page = client_recherche.get("/?commune=Evry").get_data(as_text=True)
    assert "/fiches/fle-evry" in page
    assert "Résultats pour Évry-Courcouronnes (91000)" in page
    assert "Évry (89140)" in page


@pytest.mark.parametrize(("texte", "suggeree"), [("Alenson", "Alençon (61000)")])
def test_la_page_propose_la_bonne_orthographe_du_lieu(
    client_recherche, texte, suggeree
):
    page = client_recherche.get(f"/?commune={texte}").get_data(as_text=True)
    assert "Vouliez-vous dire" in page
    assert suggeree in page


def test_le_rayon_se_choisit_dans_le_formulaire_et_reste_choisi(client_recherche):
    page = client_recherche.get("/?commune=Alençon&rayon_km=20&par_page=1")
    texte = page.get_data(as_text=True)
    assert '<select id="rayon_km" name="rayon_km">' in texte
    assert '<option value="20" selected>' in texte
    # The next page and an htmx swap keep it.
    assert "rayon_km=20" in texte.split('rel="next"')[0].rsplit("href=", 1)[1]
    swap = client_recherche.get(
        "/?commune=Alençon&rayon_km=20&page=2&par_page=1",
        headers={"HX-Request": "true", "HX-Target": "resultats"},
    )
    assert "rayon_km=20" in swap.headers["HX-Push-Url"]
    assert "/fiches/mob-garage-evry" not in swap.get_data(as_text=True)


@pytest.mark.parametrize(("texte", "code"), [("Paris", "75056"), ("Evry", "91228")])
def test_un_formulaire_lit_une_commune_meme_homonyme_d_un_departement(texte, code):
    # « Paris » is also the département: a form asking for a commune takes
    # the commune, not « « Paris (75) » n'est pas une commune ».
    commune, erreur = commune_habitee(texte, {"91"})
    assert (commune.code_insee, erreur) == (code, None)


@pytest.mark.parametrize(
    "texte",
    ["x" + " (1)" * 1200, "Paris" + " (75001)" * 1100, "a" + " " * 40_000 + "x"],
)
def test_un_lieu_demesure_recoit_un_message_et_non_une_erreur(texte):
    # Each bracket group was one more call (RecursionError); the spaces, a
    # scan growing with their square.
    assert commune_habitee(texte) == (
        None,
        "Commune inconnue : écrivez son nom ou son code postal.",
    )


def test_un_nom_et_un_code_postal_qui_ne_s_accordent_pas_sont_demandes():
    # « Paris 13001 » gave Paris without a word: 13001 is Marseille's.
    resolution = resoudre("Paris 13001")
    assert resolution.lieu is None
    proposes = [s.libelle for s in resolution.suggestions]
    assert "Paris (75001)" in proposes and "Marseille (13001)" in proposes
    assert commune_habitee("Paris 13001") == (
        None,
        "Ce nom et ce code postal ne vont pas ensemble. Vouliez-vous dire "
        "Paris (75001) ou Marseille (13001) ?",
    )
    # The postcode of another town of the same département still says which.
    assert resoudre("Corbeil 91000").lieu.libelle == "Corbeil-Essonnes (91100)"
