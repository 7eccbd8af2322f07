def test_not_found_is_json(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.json["error"] == "Not Found"
    assert response.json["status"] == 404


def test_method_not_allowed_is_json(client) -> None:
    response = client.post("/health")
    assert response.status_code == 405
    assert response.json["status"] == 405


def test_unexpected_exception_is_a_json_500_without_details(app, caplog) -> None:
    app.testing = False  # in testing mode Flask re-raises instead of answering 500

    @app.get("/boom")
    def boom() -> None:
        raise ValueError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.json["error"] == "Internal Server Error"
    assert "secret internals" not in response.text
    assert "secret internals" in caplog.text
