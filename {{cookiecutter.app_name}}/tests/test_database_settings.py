import pytest

from {{ cookiecutter.app_name }}.database import database_url, engine_options


def test_database_url_is_used_with_the_psycopg_driver() -> None:
    url = database_url({"DATABASE_URL": "postgres://app:pw@db.example:6543/app"})
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "app",
        "pw",
        "db.example",
        6543,
        "app",
    )


def test_the_parts_make_a_url_when_database_url_is_not_set() -> None:
    parts = {"DATABASE_HOST": "db", "DATABASE_NAME": "shop", "DATABASE_USER": "app"}
    url = database_url(parts)
    assert url.render_as_string() == "postgresql+psycopg://app@db:5432/shop"


def test_the_password_file_wins(tmp_path) -> None:
    password_file = tmp_path / "postgres_password"
    password_file.write_text("from-file\n", encoding="utf-8")
    environ = {
        "DATABASE_URL": "postgresql://app:in-url@db/app",
        "DATABASE_PASSWORD": "from-variable",
        "DATABASE_PASSWORD_FILE": str(password_file),
    }
    assert database_url(environ).password == "from-file"


def test_an_unreadable_password_file_is_named(tmp_path) -> None:
    missing = tmp_path / "missing"
    environ = {
        "DATABASE_URL": "postgresql://app@db/app",
        "DATABASE_PASSWORD_FILE": str(missing),
    }
    with pytest.raises(RuntimeError, match=f"DATABASE_PASSWORD_FILE={missing} cannot"):
        database_url(environ)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param({}, "No database: set DATABASE_URL", id="nothing-set"),
        pytest.param({"DATABASE_URL": "mysql://db/app"}, "postgresql://", id="mysql"),
        pytest.param({"DATABASE_URL": "not a url"}, "not a URL", id="not-a-url"),
    ],
)
def test_bad_settings_are_refused_with_the_variable_named(environ, message) -> None:
    with pytest.raises(RuntimeError, match=message):
        database_url(environ)


def test_each_thread_of_a_worker_gets_one_pooled_connection() -> None:
    options = engine_options({"GUNICORN_THREADS": "6"})
    assert (options["pool_size"], options["max_overflow"]) == (6, 0)


def test_connections_are_checked_before_use() -> None:
    assert engine_options({})["pool_pre_ping"] is True
