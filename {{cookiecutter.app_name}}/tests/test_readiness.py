import pytest

from {{ cookiecutter.app_name }} import create_app

UNREACHABLE = "postgresql://nobody@127.0.0.1:9/nothing"


@pytest.fixture
def client_without_database(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    monkeypatch.delenv("DATABASE_PASSWORD_FILE", raising=False)
    return create_app({"TESTING": True, "SECRET_KEY": "test"}).test_client()


def test_ready_when_the_database_answers(client, database) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_not_ready_when_the_database_does_not_answer(client_without_database) -> None:
    response = client_without_database.get("/ready")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"


def test_alive_even_when_the_database_does_not_answer(client_without_database) -> None:
    assert client_without_database.get("/health").status_code == 200
