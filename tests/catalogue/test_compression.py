"""A phone on a weak network receives every part of the page compressed."""

import pytest

NAVIGATEUR = {"Accept-Encoding": "gzip, deflate, br, zstd"}


@pytest.mark.parametrize(
    "url",
    ["/?q=francais", "/static/vendor/htmx-2.0.11/htmx.min.js", "/static/css/site.css"],
)
def test_la_page_et_ses_ressources_arrivent_compressees(client_recherche, url):
    client = client_recherche
    brut = client.get(url)
    compresse = client.get(url, headers=NAVIGATEUR)
    assert compresse.status_code == 200
    assert compresse.headers["Content-Encoding"] in ("zstd", "br", "gzip")
    assert "Accept-Encoding" in compresse.headers["Vary"]
    assert len(compresse.get_data()) < len(brut.get_data()) / 2


def test_un_navigateur_sans_compression_recoit_le_texte_tel_quel(client_recherche):
    client = client_recherche
    response = client.get("/?q=francais")
    assert "Content-Encoding" not in response.headers
    assert "Trouver une aide" in response.get_data(as_text=True)
