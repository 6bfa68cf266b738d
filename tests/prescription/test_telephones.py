"""Phone numbers as people type them, kept so that a text message reaches them."""

import pytest

from prescription import telephones


@pytest.mark.parametrize(
    ("tape", "garde", "sms"),
    [
        ("06 12 34 56 78", "06 12 34 56 78", "33612345678"),
        ("+33 (0)6 12 34 56 78", "06 12 34 56 78", "33612345678"),
        ("01 23 45 67 89", "01 23 45 67 89", "33123456789"),
        ("0692 12 34 56", "+262 692 12 34 56", "262692123456"),  # La Réunion
        ("0269 61 12 34", "+262 269 61 12 34", "262269611234"),  # Mayotte, fixe
        ("0639 01 23 45", "+262 639 01 23 45", "262639012345"),  # Mayotte
        ("0696 12 34 56", "+596 696 12 34 56", "596696123456"),  # Martinique
        ("+213 551 23 45 67", "+213 551 23 45 67", "213551234567"),
        ("0800 12 34 56", "0 800 12 34 56", "33800123456"),  # numéro vert
        ("0895 12 34 56", "0 895 12 34 56", "33895123456"),
    ],
)
def test_un_numero_garde_son_pays(tape, garde, sms):
    numero = telephones.lire(tape)
    assert telephones.ecrire(numero) == garde
    assert telephones.international(garde) == sms
    assert garde in telephones.formes(tape)


@pytest.mark.parametrize("tape", ["12", "06 12 34", "bonjour", "+999 1234", "0" * 20])
def test_un_numero_impossible_n_est_pas_lu(tape):
    assert telephones.lire(tape) is None


def test_un_numero_garde_par_l_ancienne_version_a_encore_sa_forme():
    # Read as metropolitan before: « 02 69 61 12 34 », a Mayotte landline.
    assert "02 69 61 12 34" in telephones.formes("+262 269 61 12 34")
    assert "0692 12 34 56" in telephones.formes("+262 692 12 34 56")


def test_un_numero_etranger_n_a_pas_de_forme_de_metropole():
    # « 0551 23 45 67 » was the old national form of this Algerian number;
    # « 05 51 23 45 67 », a landline in the south-west, is someone else.
    formes = telephones.formes("+213 551 23 45 67")
    assert "0551 23 45 67" in formes
    assert "05 51 23 45 67" not in formes
