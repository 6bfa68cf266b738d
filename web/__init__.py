"""The web layer: pages, API, errors, command line. Domain packages sit below."""

from flask import Flask


def init_app(app: Flask) -> None:
    from web import api, cli, donnees, pages, site

    site.init_app(app)
    app.teardown_appcontext(donnees.fermer)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    cli.register(app)
