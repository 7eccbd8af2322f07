import pytest

pytestmark = pytest.mark.usefixtures("empty_tables")


def test_creating_an_item_answers_201_with_its_id(client) -> None:
    response = client.post("/items", json={"name": "first"})
    assert response.status_code == 201
    assert response.json == {"id": 1, "name": "first"}


def test_items_are_listed_in_the_order_they_were_created(client) -> None:
    for name in ("first", "second"):
        client.post("/items", json={"name": name})
    assert client.get("/items").json == {
        "items": [{"id": 1, "name": "first"}, {"id": 2, "name": "second"}]
    }


def test_no_items_is_an_empty_list(client) -> None:
    assert client.get("/items").json == {"items": []}


def test_the_name_is_stored_without_surrounding_spaces(client) -> None:
    assert client.post("/items", json={"name": "  spaced  "}).json["name"] == "spaced"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no-name"),
        pytest.param({"name": ""}, id="empty-name"),
        pytest.param({"name": "   "}, id="blank-name"),
        pytest.param({"name": 42}, id="name-not-a-string"),
        pytest.param({"name": "x" * 201}, id="name-too-long"),
        pytest.param(["first"], id="not-an-object"),
    ],
)
def test_invalid_input_answers_400_in_the_json_error_format(client, body) -> None:
    response = client.post("/items", json=body)
    assert response.status_code == 400
    assert response.json["error"] == "Bad Request"
    assert response.json["status"] == 400
    assert "name" in response.json["message"]
    assert client.get("/items").json == {"items": []}


def test_a_body_that_is_not_json_answers_400(client) -> None:
    response = client.post("/items", data="name=first", content_type="text/plain")
    assert response.status_code == 400
    assert response.json["status"] == 400
