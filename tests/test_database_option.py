"""The `database` answer: none leaves the project as it was; postgresql adds it all.

Read from the generated files with their parsers: pyproject.toml and the lock,
compose.yaml, the Makefile (as make prints it), the Kubernetes manifests and the
workflow. The database running for real is in tests/docker/test_database_*.py.
"""

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import (
    DEFAULT_APP_NAME,
    TEMPLATE_DIR,
    bake_ok,
    compose_services,
    dependencies,
    locked_packages,
    make_dry_run,
    run,
    tool,
)

DATABASE_PACKAGES = {
    "alembic",
    "flask-migrate",
    "flask-sqlalchemy",
    "psycopg",
    "psycopg-binary",
    "sqlalchemy",
}
FLASK_DB_UPGRADE = ["flask", "--app", DEFAULT_APP_NAME, "db", "upgrade"]


# --- database=none: nothing of it -------------------------------------------------


def test_without_a_database_no_database_package_is_a_dependency_or_locked(without_database):
    assert not [dep for dep in dependencies(without_database) if "sql" in dep or "psycopg" in dep]
    assert not DATABASE_PACKAGES & locked_packages(without_database)


def test_without_a_database_compose_has_no_db_and_the_app_no_database_setting(
    without_database,
):
    services = compose_services(without_database)
    assert set(services) == {"edge", "app", "dev"}
    text = (without_database / "compose.yaml").read_text(encoding="utf-8")
    assert "DATABASE" not in text and "postgres" not in text


def test_without_a_database_nothing_mentions_migrations_or_readiness(without_database):
    for name in ("Makefile", "README.md", "deploy/kubernetes/deployment.yaml"):
        text = (without_database / name).read_text(encoding="utf-8")
        assert "migrat" not in text.lower(), name
        assert "/ready" not in text, name


# --- database=postgresql: the libraries and the locks -----------------------------


def test_postgresql_brings_sqlalchemy_2_psycopg_3_binary_and_flask_migrate(with_postgresql):
    assert {
        "flask-sqlalchemy (>=3.1,<4)",
        "flask-migrate (>=4.1,<5)",
        "sqlalchemy (>=2.0,<3)",
        "psycopg[binary] (>=3.2,<4)",
    } <= set(dependencies(with_postgresql))
    assert locked_packages(with_postgresql) >= DATABASE_PACKAGES


@pytest.mark.parametrize("database", ["none", "postgresql"], ids=lambda d: f"database-{d}")
def test_each_answer_gets_its_own_lock_in_sync(cookies, database):
    project = bake_ok(cookies, database=database)
    run(tool("poetry"), "check", "--lock", cwd=project)


def test_make_lock_refreshes_the_lock_of_every_answer():
    script = (TEMPLATE_DIR / "scripts" / "refresh_lock.py").read_text(encoding="utf-8")
    choices = yaml.safe_load((TEMPLATE_DIR / "cookiecutter.json").read_text())["database"]
    for choice in choices:
        assert re.search(rf'"{choice}": PROJECT_DIR / "poetry[.\w]*lock"', script), choice
    for lock in ("poetry.lock", "poetry.postgresql.lock"):
        assert (TEMPLATE_DIR / "{{cookiecutter.app_name}}" / lock).is_file()


# --- database=postgresql: compose ---------------------------------------------------


def test_db_is_the_official_postgresql_image_pinned_to_a_major_version(with_postgresql):
    db = compose_services(with_postgresql)["db"]
    assert re.fullmatch(r"postgres:\d+", db["image"]), db["image"]
    assert "build" not in db


def test_db_runs_as_postgres_with_no_capability_and_is_not_published(with_postgresql):
    db = compose_services(with_postgresql)["db"]
    assert db["user"] == "postgres"
    assert db["cap_drop"] == ["ALL"] and "cap_add" not in db
    assert db["read_only"] is True
    assert "no-new-privileges:true" in db["security_opt"]
    assert "ports" not in db


def test_db_keeps_its_data_in_a_named_volume_and_checks_health_with_pg_isready(
    with_postgresql,
):
    compose = yaml.safe_load((with_postgresql / "compose.yaml").read_text(encoding="utf-8"))
    db = compose["services"]["db"]
    volume, target = db["volumes"][0].split(":")
    assert target == "/var/lib/postgresql" and volume in compose["volumes"]
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]


def test_the_password_is_a_secret_file_for_postgresql_and_the_app_alike(with_postgresql):
    services = compose_services(with_postgresql)
    assert services["db"]["environment"]["POSTGRES_PASSWORD_FILE"] == (
        "/run/secrets/postgres_password"
    )
    assert "POSTGRES_PASSWORD" not in services["db"]["environment"]
    for name in ("app", "migrate", "dev"):
        assert "postgres_password" in services[name]["secrets"], name
        environment = services[name]["environment"]
        assert environment["DATABASE_PASSWORD_FILE"] == "/run/secrets/postgres_password"
        assert "@db:5432/" in environment["DATABASE_URL"]
        assert ":" not in environment["DATABASE_URL"].split("//")[1].split("@")[0], name


def test_app_starts_only_after_the_migrations_which_wait_for_a_healthy_db(with_postgresql):
    services = compose_services(with_postgresql)
    assert services["app"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"}
    }
    migrate = services["migrate"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert migrate["command"] == FLASK_DB_UPGRADE
    assert migrate["build"] == services["app"]["build"] == {"context": ".", "target": "production"}
    assert migrate["restart"] == "no"
    assert services["dev"]["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_app_keeps_its_name_and_only_edge_and_dev_publish_app_port(with_postgresql):
    services = compose_services(with_postgresql)
    published = {name for name, service in services.items() if "ports" in service}
    assert published == {"edge", "dev"}
    assert all("APP_PORT" in services[name]["ports"][0] for name in published)


# --- database=postgresql: make -----------------------------------------------------


def test_only_make_clean_removes_the_volume_and_make_help_says_so(with_postgresql):
    for target in ("down", "run", "dev", "test", "migrate"):
        assert "--volumes" not in make_dry_run(with_postgresql, target), target
    assert "--volumes" in make_dry_run(with_postgresql, "clean")
    help_text = run("make", "help", cwd=with_postgresql).stdout
    clean = next(line for line in help_text.splitlines() if line.split()[0].endswith("clean"))
    assert "database's data too" in clean
    down = next(line for line in help_text.splitlines() if "down" in line.split()[0])
    assert "data stays" in down


@pytest.mark.parametrize(
    ("target", "command"),
    [
        pytest.param("migration MESSAGE=add-users", "flask db migrate --message", id="migration"),
        pytest.param("migrate", "flask db upgrade", id="migrate"),
        pytest.param("psql", "exec db psql", id="psql"),
    ],
)
def test_make_targets_create_and_apply_migrations_and_open_psql(with_postgresql, target, command):
    assert command in make_dry_run(with_postgresql, *target.split())


@pytest.mark.parametrize(
    ("target", "starts"),
    [("dev", "up --build --detach --wait dev"), ("watch", "watch dev")],
    ids=["dev", "watch"],
)
def test_the_development_server_starts_on_a_migrated_database(with_postgresql, target, starts):
    commands = make_dry_run(with_postgresql, target)
    assert commands.index("flask db upgrade") < commands.index(starts)


def test_make_migration_autogenerates_in_the_development_image(with_postgresql):
    commands = make_dry_run(with_postgresql, "migration").splitlines()
    line = next(line for line in commands if "flask db migrate" in line)
    assert "run --rm --no-deps dev" in line


def test_make_test_gives_the_suite_a_database_of_its_own(with_postgresql):
    commands = make_dry_run(with_postgresql, "test")
    assert "up --detach --wait db" in commands
    assert f"DATABASE_URL=postgresql://{DEFAULT_APP_NAME}@db:5432/{DEFAULT_APP_NAME}_test" in (
        commands
    )


# --- database=postgresql: Kubernetes and CI ---------------------------------------


def test_kubernetes_runs_the_migrations_before_the_app_and_probes_readiness(
    with_postgresql,
):
    rendered = run("kubectl", "kustomize", "deploy/kubernetes", cwd=with_postgresql).stdout
    deployment = next(doc for doc in yaml.safe_load_all(rendered) if doc["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (migrate,) = pod["initContainers"]
    (app,) = pod["containers"]
    assert migrate["image"] == app["image"]
    assert migrate["command"] == FLASK_DB_UPGRADE
    assert migrate["securityContext"] == app["securityContext"]
    assert app["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert app["livenessProbe"]["httpGet"]["path"] == "/health"
    for container in (migrate, app):
        env = {item["name"]: item["value"] for item in container["env"]}
        secret_dir = container["volumeMounts"][0]["mountPath"]
        assert env["DATABASE_PASSWORD_FILE"] == f"{secret_dir}/postgres-password"


def test_kubernetes_manifests_with_postgresql_pass_strict_schema_validation(
    with_postgresql, tmp_path
):
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(
        run("kubectl", "kustomize", "deploy/kubernetes", cwd=with_postgresql).stdout,
        encoding="utf-8",
    )
    run(tool("kubernetes-validate"), "--strict", "--quiet", rendered)


def test_the_readmes_secret_command_gives_the_key_and_the_password_the_pods_read(
    with_postgresql, tmp_path
):
    readme = (with_postgresql / "README.md").read_text(encoding="utf-8")
    [command] = re.findall(r"^kubectl create secret generic .+\\\n.+$", readme, re.MULTILINE)
    assert "\nmake .env " in readme  # the README's step before it writes the files it reads
    project = tmp_path / DEFAULT_APP_NAME
    shutil.copytree(with_postgresql, project, symlinks=True)
    run("make", ".env", cwd=project, timeout=60)
    created = run(
        *command.replace("\\\n", " ").split(),
        "--dry-run=client",
        "--output=yaml",
        cwd=project,
    ).stdout
    keys = set(yaml.safe_load(created)["data"])
    assert keys == {"flask-secret-key", "postgres-password"}
    rendered = run("kubectl", "kustomize", "deploy/kubernetes", cwd=with_postgresql).stdout
    deployment = next(doc for doc in yaml.safe_load_all(rendered) if doc["kind"] == "Deployment")
    [app] = deployment["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item["value"] for item in app["env"]}
    read = {Path(env[name]).name for name in ("FLASK_SECRET_KEY_FILE", "DATABASE_PASSWORD_FILE")}
    assert read == keys
