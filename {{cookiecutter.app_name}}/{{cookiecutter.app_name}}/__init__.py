"""The application factory, called by `flask run` and by gunicorn."""

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import api, errors


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app.

    Settings come from FLASK_* environment variables (FLASK_SECRET_KEY sets
    SECRET_KEY), or from `test_config` in the tests.
    """
    app = Flask(__name__)
    app.config.from_mapping(TRUSTED_PROXIES=0)
    if test_config is None:
        app.config.from_prefixed_env()
    else:
        app.config.from_mapping(test_config)

    if not app.config.get("SECRET_KEY"):
        # Fail at start-up, loudly, rather than sign sessions with a guessable key.
        raise RuntimeError(
            "FLASK_SECRET_KEY is not set: refusing to start. Generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'` and pass it "
            "as an environment variable (make run writes one to .env)."
        )

    trusted_proxies = int(app.config["TRUSTED_PROXIES"])
    if trusted_proxies:
        # Believe X-Forwarded-* only from as many proxies as were configured.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=trusted_proxies,
            x_proto=trusted_proxies,
            x_host=trusted_proxies,
            x_prefix=trusted_proxies,
        )

    app.register_blueprint(api.bp)
    errors.register(app)
    return app
