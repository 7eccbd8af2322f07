"""database=postgresql on a real engine: the data flow a user relies on.

A project baked with PostgreSQL, run the way its README says: `make run` (edge,
app, migrate, db), `make down`, `make test`, `make dev`, `make migration`,
`make psql` and the README's backup commands. The database is the image
compose.yaml names (the test machine's stand-in where no registry answers).
"""

import json
import re
import subprocess
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.waits import HTTP, http_get
from tests.docker.compose import Project
from tests.docker.session import SECRET_KEY, inspect, proc_status, refused_start
from tests.docker.waits import wait_until
from tests.helpers import DEFAULT_APP_NAME, docker

pytestmark = pytest.mark.docker

# --- The PostgreSQL stack ----------------------------------------------------------------

# A migration after the first that fails half-way: a column added, then an error.
BROKEN_MIGRATION = '''\
"""Broken on purpose: adds a column, then fails."""

import sqlalchemy as sa
from alembic import op

revision = "0badc0ffee00"
down_revision = "6f1c0d2a9b3e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("price", sa.Integer()))
    op.execute("SELECT * FROM no_such_table")


def downgrade() -> None:
    op.drop_column("items", "price")
'''


def post_json(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with HTTP.open(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def status_of(url: str) -> int | None:
    try:
        return http_get(url, timeout=6).status
    except OSError:
        return None


def psql(project: Project, sql: str) -> str:
    """`make psql`, fed SQL on its standard input, as a user could pipe a script."""
    return project.make("psql", input=sql).stdout


def docker_exec(container: str, *command: str) -> str:
    return docker("exec", container, *command).stdout


def the_container(project: Project, service: str) -> str:
    [container] = project.containers(service)
    return container


# --- make run, make down ------------------------------------------------------------


def test_an_item_created_through_the_edge_is_listed_and_survives_make_down(postgresql_stack):
    status, item = post_json(postgresql_stack.url("/items"), {"name": "kept across restarts"})
    assert status == 201
    assert item["name"] == "kept across restarts" and isinstance(item["id"], int)
    assert item in http_get(postgresql_stack.url("/items")).json()["items"]

    postgresql_stack.make("down")
    assert postgresql_stack.containers() == []
    postgresql_stack.make("run")
    assert item in http_get(postgresql_stack.url("/items")).json()["items"]


def test_the_migrations_ran_to_the_head_and_exited_before_app_started(postgresql_stack):
    migrate = inspect(the_container(postgresql_stack, "migrate"))
    app = inspect(the_container(postgresql_stack, "app"))
    assert migrate["State"]["ExitCode"] == 0
    assert migrate["State"]["FinishedAt"] < app["State"]["StartedAt"]
    assert "6f1c0d2a9b3e" in psql(postgresql_stack, "SELECT version_num FROM alembic_version;")


def test_db_runs_as_postgres_with_no_capabilities_and_unpublished(postgresql_stack):
    db = the_container(postgresql_stack, "db")
    config = inspect(db)
    assert config["Config"]["User"] == "postgres"
    assert config["HostConfig"]["CapDrop"] == ["ALL"] and not config["HostConfig"]["CapAdd"]
    assert config["HostConfig"]["ReadonlyRootfs"] is True
    assert not config["HostConfig"]["PortBindings"]
    fields = proc_status(db)
    assert fields["CapEff"] == ["0000000000000000"], fields
    assert fields["NoNewPrivs"] == ["1"], fields
    assert postgresql_stack.compose("exec", "-T", "db", "id", "-un").stdout.strip() == "postgres"


def test_the_production_image_carries_the_migrations_and_no_build_or_client_tools(postgresql_stack):
    app = the_container(postgresql_stack, "app")
    script = (
        f"import pathlib, {DEFAULT_APP_NAME} as app\n"
        "folder = pathlib.Path(app.__file__).with_name('migrations')\n"
        "print(*sorted(p.name for p in folder.rglob('*') if p.is_file()))"
    )
    listing = docker_exec(app, "python", "-c", script).split()
    assert {"alembic.ini", "env.py", "script.py.mako"} <= set(listing)
    assert any(name.endswith("_create_items.py") for name in listing), listing
    tools = "gcc cc make psql pg_dump pg_config apt-get"
    found = docker_exec(app, "sh", "-c", f"for t in {tools}; do command -v $t; done; true")
    assert found.split() == ["/usr/bin/apt-get"], found  # the base image's, nothing added


def test_no_more_connections_than_workers_times_threads(postgresql_stack):
    # Many concurrent requests: each worker's pool still opens one connection per
    # thread at most (WEB_CONCURRENCY 2 x GUNICORN_THREADS 4).
    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(status_of, [postgresql_stack.url("/items")] * 200))
    assert statuses == [200] * 200
    count = psql(
        postgresql_stack,
        f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{DEFAULT_APP_NAME}' "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid();",
    )
    connections = int(re.search(r"^\s*(\d+)\s*$", count, re.MULTILINE).group(1))
    assert 1 <= connections <= 2 * 4, count


def test_ready_is_503_while_db_is_stopped_and_200_again_with_the_same_app(postgresql_stack):
    app_before = the_container(postgresql_stack, "app")
    assert status_of(postgresql_stack.url("/ready")) == 200
    postgresql_stack.compose("stop", "db")
    try:
        wait_until(
            lambda: status_of(postgresql_stack.url("/ready")) == 503, timeout=30, what="/ready 503"
        )
        assert status_of(postgresql_stack.url("/health")) == 200
    finally:
        postgresql_stack.compose("start", "db")
    wait_until(
        lambda: status_of(postgresql_stack.url("/ready")) == 200, timeout=60, what="/ready 200"
    )
    assert the_container(postgresql_stack, "app") == app_before
    assert inspect(app_before)["RestartCount"] == 0


def test_the_readmes_backup_and_restore_commands_bring_the_data_back(postgresql_stack):
    readme = (postgresql_stack.directory / "README.md").read_text(encoding="utf-8")
    dump, restore = (
        line
        for line in readme.splitlines()
        if line.startswith("docker compose --profile prod exec")
    )
    assert "pg_dump" in dump and "pg_restore" in restore
    post_json(postgresql_stack.url("/items"), {"name": "in the backup"})
    run_shell = {"cwd": postgresql_stack.directory, "env": postgresql_stack.env, "shell": True}
    subprocess.run(dump, check=True, timeout=120, **run_shell)
    assert (postgresql_stack.directory / "backup.dump").stat().st_size > 0
    psql(postgresql_stack, "DELETE FROM items;")
    assert http_get(postgresql_stack.url("/items")).json()["items"] == []
    subprocess.run(restore, check=True, timeout=120, **run_shell)
    names = [item["name"] for item in http_get(postgresql_stack.url("/items")).json()["items"]]
    assert "in the backup" in names


# --- A broken migration ---------------------------------------------------------------


def test_a_broken_migration_keeps_app_from_starting_and_leaves_the_schema_as_it_was(
    postgresql_copy,
):
    project = postgresql_copy()
    project.make("run")
    versions = project.directory / DEFAULT_APP_NAME / "migrations" / "versions"
    (versions / "20990101_0badc0ffee00_broken.py").write_text(BROKEN_MIGRATION, encoding="utf-8")
    result = project.make("run", check=False)
    assert result.returncode != 0
    assert 'service "migrate" didn\'t complete successfully' in result.stdout + result.stderr

    migrate = inspect(the_container(project, "migrate"))
    assert migrate["State"]["ExitCode"] == 1
    logs = project.compose("logs", "migrate").stdout
    assert "Running upgrade 6f1c0d2a9b3e -> 0badc0ffee00" in logs, logs
    assert 'relation "no_such_table" does not exist' in logs, logs
    # The new app was created, never started: nothing serves the new code.
    app = inspect(the_container(project, "app"))
    assert app["State"]["Running"] is False
    assert app["State"]["StartedAt"].startswith("0001-01-01"), app["State"]
    # One transaction: the column the migration added before failing is gone too.
    columns = psql(
        project,
        "SELECT 'columns=' || string_agg(column_name, ',' ORDER BY column_name) "
        "FROM information_schema.columns WHERE table_name = 'items';",
    )
    assert "columns=id,name\n" in columns, columns
    version = psql(project, "SELECT 'version=' || version_num FROM alembic_version;")
    assert "version=6f1c0d2a9b3e\n" in version, version


# --- The production image alone ---------------------------------------------------------


def test_the_master_refuses_to_start_without_database_url_in_one_line(
    docker_session, postgresql_production
):
    """Before any worker boots: one line naming the setting, not a traceback per worker."""
    refused = refused_start(
        docker_session, postgresql_production, "--env", f"FLASK_SECRET_KEY={SECRET_KEY}"
    )
    assert refused.exit_code != 0
    assert "Traceback" not in refused.output
    assert "Booting worker" not in refused.output
    [line] = refused.error_lines
    assert "DATABASE_URL" in line


# --- The development side: make test, make dev, make migration ------------------------


def test_make_test_passes_against_a_test_database_it_starts_clean(postgresql_dev):
    for _ in range(2):  # the second run finds no rows from the first
        output = postgresql_dev.make("test").stdout
        summary = output.strip().splitlines()[-1]
        assert re.search(r"\d+ passed", summary) and "failed" not in summary, summary
        for module in ("test_items.py", "test_migrations.py", "test_readiness.py"):
            assert f"tests/{module} " in output, module


def test_the_suite_stops_at_once_without_database_url(postgresql_dev):
    postgresql_dev.make(".env")  # compose alone, so make's .env target first
    result = postgresql_dev.compose(
        "run", "--rm", "--no-deps", "--env", "DATABASE_URL=", "dev", "pytest", check=False
    )
    assert result.returncode == 4  # pytest's usage error: not a pass, not a skip
    assert "DATABASE_URL is not set" in result.stdout + result.stderr
    assert "skipped" not in result.stdout


def test_make_dev_migrates_and_serves_items_from_the_sources(postgresql_dev):
    postgresql_dev.make("dev")
    status, item = post_json(postgresql_dev.url("/items"), {"name": "from dev"})
    assert status == 201
    assert item in http_get(postgresql_dev.url("/items")).json()["items"]


def test_make_migration_writes_the_models_change_as_a_migration_you_own(postgresql_dev):
    items = postgresql_dev.directory / DEFAULT_APP_NAME / "items.py"
    source = items.read_text(encoding="utf-8")
    items.write_text(
        source.replace(
            "    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))\n",
            "    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))\n"
            "    price: Mapped[int | None]\n",
        ),
        encoding="utf-8",
    )
    versions = postgresql_dev.directory / DEFAULT_APP_NAME / "migrations" / "versions"
    before = set(versions.glob("*.py"))
    postgresql_dev.make("migration", "MESSAGE=add price")
    [written] = set(versions.glob("*.py")) - before
    assert written.name.endswith("_add_price.py")
    text = written.read_text(encoding="utf-8")
    assert 'op.add_column("items", sa.Column("price", sa.Integer(), nullable=True))' in text
    assert 'op.drop_column("items", "price")' in text
    # Written as `make lint` wants it: ruff (check and format) ran on it.
    lint = postgresql_dev.compose(
        "run", "--rm", "--no-deps", "dev", "sh", "-c",
        f"ruff check {written.relative_to(postgresql_dev.directory)} && ruff format --check .",
    )  # fmt: skip
    assert re.search(r"\d+ files? already formatted", lint.stdout), lint.stdout
    # Applied, the model and the schema agree again: no further migration.
    postgresql_dev.make("migrate")
    again = postgresql_dev.make("migration", "MESSAGE=nothing")
    assert set(versions.glob("*.py")) - before == {written}, again.stdout
