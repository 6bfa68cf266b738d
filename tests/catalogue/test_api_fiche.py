"""Another tool reads one fiche through the JSON API."""


def test_une_fiche_connue_est_rendue_en_json(client_recherche):
    response = client_recherche.get("/api/v1/fiches/mob-velos-alencon")
    assert response.status_code == 200
    fiche = response.get_json()
    assert fiche["nom"] == "Prêt de vélos et de scooters"
    assert fiche["structure"] == "mobilite-orne"
    # The commune's name comes from the INSEE code the fiche gives.
    assert fiche["lieux"][0]["commune"] == "Alençon"
    assert fiche["capacite"] == {
        "nombre": 20,
        "unite": "beneficiaires",
        "periode": "an",
        "inconnue": False,
        "illimitee": False,
        "precisions": None,
    }


def test_une_fiche_inconnue_repond_404_en_json_francais(client_recherche):
    response = client_recherche.get("/api/v1/fiches/n-existe-pas")
    assert response.status_code == 404
    assert response.is_json
    assert "n-existe-pas" in response.get_json()["erreur"]
