import pytest
from flask import request

from {{ cookiecutter.app_name }} import create_app


def test_test_config_is_applied() -> None:
    assert create_app({"TESTING": True, "SECRET_KEY": "x"}).testing


def test_settings_come_from_flask_prefixed_environment(monkeypatch) -> None:
    # Compose's dev service names a key file: without it, the variable is used.
    monkeypatch.delenv("FLASK_SECRET_KEY_FILE", raising=False)
    monkeypatch.setenv("FLASK_SECRET_KEY", "from-env")
    monkeypatch.setenv("FLASK_TRUSTED_PROXIES", "1")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["TRUSTED_PROXIES"] == 1


def test_refuses_to_start_without_secret_key(monkeypatch) -> None:
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_SECRET_KEY_FILE", raising=False)
    message = "neither FLASK_SECRET_KEY_FILE nor FLASK_SECRET_KEY is set"
    with pytest.raises(RuntimeError, match=message):
        create_app()


def test_secret_key_file_wins_over_the_variable(monkeypatch, tmp_path) -> None:
    key_file = tmp_path / "flask_secret_key"
    key_file.write_text("from-file\n", encoding="utf-8")
    monkeypatch.setenv("FLASK_SECRET_KEY_FILE", str(key_file))
    monkeypatch.setenv("FLASK_SECRET_KEY", "from-env")
    assert create_app().config["SECRET_KEY"] == "from-file"


def test_unreadable_secret_key_file_is_named(monkeypatch, tmp_path) -> None:
    missing = tmp_path / "missing"
    monkeypatch.setenv("FLASK_SECRET_KEY_FILE", str(missing))
    with pytest.raises(RuntimeError, match=f"FLASK_SECRET_KEY_FILE={missing} cannot"):
        create_app()


def test_empty_secret_key_file_is_refused(monkeypatch, tmp_path) -> None:
    key_file = tmp_path / "empty"
    key_file.write_text("\n", encoding="utf-8")
    monkeypatch.setenv("FLASK_SECRET_KEY_FILE", str(key_file))
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="Refusing to start"):
        create_app()


@pytest.mark.parametrize(("proxies", "scheme"), [(0, "http"), (1, "https")])
def test_forwarded_headers_trusted_only_when_configured(proxies, scheme) -> None:
    app = create_app({"SECRET_KEY": "x", "TRUSTED_PROXIES": proxies})

    @app.get("/scheme")
    def scheme_view() -> str:
        return request.scheme

    response = app.test_client().get("/scheme", headers={"X-Forwarded-Proto": "https"})
    assert response.text == scheme
