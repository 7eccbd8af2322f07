from importlib.metadata import version


def test_health(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_index_names_the_service_and_its_version(client) -> None:
    response = client.get("/")
    assert response.json == {
        "name": "{{ cookiecutter.app_name }}",
        "version": version("{{ cookiecutter.app_name }}"),
    }
