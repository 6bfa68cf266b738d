"""The OpenAPI document is generated from the code, valid, and true.

A validator checks the document; schemathesis then sends what the document
allows (and what it does not) to every API operation, and hypothesis does
the same to the search page's query string: never a 5xx, never an API error
that is not the documented JSON.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from web.openapi import document_openapi
from web.parametres import PARAMETRES

BALAYAGE = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def test_le_document_est_valide_et_decrit_chaque_parametre_et_reponse():
    document = document_openapi()
    validate(document)
    recherche = document["paths"]["/api/v1/fiches"]["get"]
    assert [p["name"] for p in recherche["parameters"]] == list(PARAMETRES)
    assert {"200", "400", "404", "405", "414", "500", "503"} <= set(
        recherche["responses"]
    )
    schemas = document["components"]["schemas"]
    assert {"Fiche", "Erreur", "ResultatsJson", "CommuneJson"} <= set(schemas)
    assert "zone_eligibilite" in schemas["Fiche"]["properties"]
    tri = next(p for p in recherche["parameters"] if p["name"] == "tri")
    assert tri["schema"]["enum"] == ["pertinence", "places", "distance", "nom"]


def test_l_api_sert_le_document_genere(client_recherche):
    assert client_recherche.get("/api/v1/openapi.json").get_json() == (
        document_openapi()
    )


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_l_api_ne_repond_ni_5xx_ni_autre_chose_que_le_json_documente(
    app_recherche, mode
):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app_recherche)
    controles = [not_a_server_error, content_type_conformance]
    if mode == GenerationMode.POSITIVE:
        controles += [status_code_conformance, response_schema_conformance]
    operations = [resultat.ok() for resultat in schema.get_all_operations()]
    assert len(operations) >= 3
    if mode == GenerationMode.NEGATIVE:  # the others take any string
        operations = [o for o in operations if o.path == "/api/v1/fiches"]
    for operation in operations:

        @BALAYAGE
        @given(case=operation.as_strategy(generation_mode=mode))
        def essayer(case):
            # The WSGI test client does not decompress: ask for none.
            reponse = case.call(
                app=app_recherche, headers={"Accept-Encoding": "identity"}
            )
            case.validate_response(reponse, checks=controles)
            if reponse.status_code >= 400:
                assert reponse.json()["statut"] == reponse.status_code

        essayer()


RESERVES = ["_anchor", "_scheme", "_method", "_external", "endpoint", "values"]
texte = st.text(max_size=30)
chiffres = st.sampled_from(["²", "³", "٣", "1", "0", "-1", "1e3", "nan", "inf", ""])


@BALAYAGE
@given(
    args=st.lists(
        st.tuples(
            st.sampled_from([*PARAMETRES, *RESERVES]) | texte,
            texte | chiffres,
        ),
        max_size=6,
    ),
    htmx=st.booleans(),
)
def test_la_page_de_recherche_ne_repond_jamais_5xx(client_recherche, args, htmx):
    entetes = {"HX-Request": "true", "HX-Target": "resultats"} if htmx else {}
    reponse = client_recherche.get("/", query_string=args, headers=entetes)
    assert reponse.status_code < 500
    api = client_recherche.get("/api/v1/fiches", query_string=args)
    assert api.status_code in (200, 400)
    assert api.is_json


def _valider(document: dict, modele: str, donnees) -> None:
    from jsonschema import Draft202012Validator

    racine = {"$ref": f"#/components/schemas/{modele}", **document}
    Draft202012Validator(racine).validate(donnees)


def test_une_fiche_et_une_recherche_de_l_api_suivent_leur_schema(client_recherche):
    document = document_openapi()
    fiche = client_recherche.get("/api/v1/fiches/mob-velos-alencon").get_json()
    _valider(document, "Fiche", fiche)
    recherche = client_recherche.get("/api/v1/fiches?q=velo").get_json()
    _valider(document, "ResultatsJson", recherche)
    erreur = client_recherche.get("/api/v1/fiches?tri=hasard").get_json()
    _valider(document, "Erreur", erreur)
