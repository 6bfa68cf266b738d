from pathlib import Path

import pytest

from app import create_app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def app(tmp_path):
    """The app on the real seeded catalogue, with its own search index."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SEARCH_PATH": str(tmp_path / "recherche.sqlite3"),
        }
    )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
