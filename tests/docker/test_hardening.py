"""The production image and its compose service are hardened, and the hardening holds.

Every claim is checked on real containers: what `docker inspect` says is in
force, and what the running service actually does. The linters' gate (hadolint at
warning level with DL3057, shellcheck) is tested in
tests/test_linting_generated_project.py.
"""

import hashlib
import json
import re
import shutil
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docker.helpers import (
    BUILD_ENV,
    DEFAULT_PYTHON,
    HTTP,
    UID_GID,
    DockerSession,
    docker,
    free_port,
    http_get,
    inspect,
    logs,
    run_test_app,
    wait_for_http,
    wait_until,
    worker_pids,
)
from tests.helpers import DEFAULT_APP_NAME

pytestmark = pytest.mark.docker

BASE_IMAGE = f"python:{DEFAULT_PYTHON}-slim"
# Log lines a healthy start and a few good requests must never produce.
TROUBLE = re.compile(r"error|warn|traceback|exception|denied|read-only|critical", re.IGNORECASE)


def gunicorn_setting(container: str, name: str) -> str:
    """A setting as gunicorn itself resolves it inside container (config file + environment)."""
    printed = docker(
        "exec", container, "gunicorn", "--print-config", f"{DEFAULT_APP_NAME}:create_app()"
    ).stdout
    match = re.search(rf"^{name}\s*=\s*(.+)$", printed, re.MULTILINE)
    assert match, f"gunicorn --print-config has no {name}:\n{printed}"
    return match.group(1).strip()


# --- The production compose service -----------------------------------------------


@pytest.fixture(scope="module")
def compose_service(
    docker_session: DockerSession, default_project: Path, tmp_path_factory
) -> Iterator[dict]:
    """`docker compose --profile prod up --build --wait app`, once for this module.

    It runs from a copy of the project in pytest's own temporary directory, which
    outlives the session, so DockerSession's final `compose down` always has its
    working directory; this fixture also takes the service down when the module ends.
    """
    project_dir = tmp_path_factory.mktemp("compose") / DEFAULT_APP_NAME
    shutil.copytree(default_project, project_dir, symlinks=True)
    project = docker_session.compose_project(project_dir)
    port = free_port()
    env = {**BUILD_ENV, "APP_PORT": str(port)}
    compose = ("compose", "--project-name", project, "--profile", "prod")
    try:
        docker(*compose, "up", "--build", "--detach", "--wait", "app", cwd=project_dir, env=env)
        container = docker(*compose, "ps", "--quiet", "app", cwd=project_dir, env=env)
        config = docker(*compose, "config", "--format", "json", cwd=project_dir, env=env)
        yield {
            "container": container.stdout.strip(),
            "url": f"http://127.0.0.1:{port}",
            "config": json.loads(config.stdout)["services"]["app"],
        }
    finally:
        docker(*compose, "down", "--volumes", cwd=project_dir, env=env, check=False)


def test_compose_service_is_healthy_and_logs_no_trouble_on_a_read_only_filesystem(
    compose_service,
):
    container, url = compose_service["container"], compose_service["url"]
    assert inspect(container)["State"]["Health"]["Status"] == "healthy"
    health = wait_for_http(f"{url}/health", container=container)
    assert health.json() == {"status": "ok"}
    for number in range(5):
        assert http_get(f"{url}/health?request={number}").status == 200
    assert http_get(f"{url}/").status == 200

    # The root filesystem refuses writes even from root; /tmp, a tmpfs, takes them.
    refused = docker("exec", "--user", "0", container, "touch", "/probe", check=False)
    assert refused.returncode != 0
    assert "Read-only file system" in refused.stderr
    docker("exec", container, "python", "-c", "open('/tmp/probe', 'w').write('ok')")

    stdout, stderr = wait_until(
        lambda: (out := logs(container)) and "GET /health?request=4 " in out[0] and out,
        timeout=10,
        what="the last request is in the access log",
    )
    assert "Booting worker" in stderr and "Control socket listening" in stderr
    trouble = [line for line in (stdout + stderr).splitlines() if TROUBLE.search(line)]
    assert trouble == []


def test_compose_service_has_every_hardening_option_in_force(compose_service):
    info = inspect(compose_service["container"])
    host, config = info["HostConfig"], compose_service["config"]
    assert host["ReadonlyRootfs"] is True
    assert "no-new-privileges:true" in host["SecurityOpt"]
    assert host["CapDrop"] == ["ALL"]
    assert not host["CapAdd"]
    assert host["Privileged"] is False
    # The limits are set, and to what compose.yaml says.
    assert host["Memory"] == int(config["mem_limit"]) > 0
    assert host["NanoCpus"] == int(float(config["cpus"]) * 1e9) > 0
    assert host["PidsLimit"] == int(config["pids_limit"]) > 0
    assert host["RestartPolicy"]["Name"] == "unless-stopped"
    assert "/tmp" in host["Tmpfs"]
    assert info["Config"]["User"] == UID_GID


def test_compose_stop_grace_period_outlasts_gunicorns_graceful_timeout(compose_service):
    """Docker's SIGKILL must never cut gunicorn's graceful shutdown short."""
    container = compose_service["container"]
    stop_timeout = inspect(container)["Config"]["StopTimeout"]
    assert stop_timeout == 15
    graceful_timeout = float(gunicorn_setting(container, "graceful_timeout"))
    assert 0 < graceful_timeout < stop_timeout


def test_compose_service_processes_run_as_uid_10001(compose_service):
    container = compose_service["container"]
    pids = [1, *worker_pids(container)]
    assert len(pids) >= 2
    for pid in pids:
        status = docker("exec", container, "cat", f"/proc/{pid}/status").stdout
        ids = {line.split(":")[0]: line.split()[1:] for line in status.splitlines()}
        assert ids["Uid"] == ["10001"] * 4, (pid, ids["Uid"])
        assert ids["Gid"] == ["10001"] * 4, (pid, ids["Gid"])
        assert ids["CapEff"] == ["0000000000000000"], (pid, ids["CapEff"])


# --- The image itself ---------------------------------------------------------------


def test_image_runs_as_a_fixed_numeric_uid(image):
    tag = image("production")
    assert inspect(tag, "image")["Config"]["User"] == UID_GID
    ids = docker("run", "--rm", "--entrypoint", "id", tag).stdout
    assert ids.startswith("uid=10001(app) gid=10001(app)"), ids


def test_healthcheck_uses_python_and_the_image_has_no_curl_or_wget(image):
    tag = image("production")
    healthcheck = inspect(tag, "image")["Config"]["Healthcheck"]
    assert healthcheck["Test"][0] == "CMD"
    probe = healthcheck["Test"][1:]
    assert not {"curl", "wget"} & {Path(word).name for word in probe}, probe
    script = docker(
        "run", "--rm", "--entrypoint", "sh", tag, "-c", f'cat "$(command -v {probe[0]})"'
    ).stdout
    assert script.startswith("#!/usr/bin/env python3"), script[:200]
    found = docker(
        "run", "--rm", "--user", "0", "--entrypoint", "find", tag,
        "/", "-xdev", "(", "-name", "curl", "-o", "-name", "wget", ")",
    ).stdout  # fmt: skip
    assert found == ""


def test_production_stage_adds_layers_with_copy_never_add(image):
    """ADD can fetch URLs and unpack archives; the Dockerfile copies only."""

    def history(tag: str) -> list[str]:
        return docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", tag).stdout.split(
            "\n"
        )[:-1]

    own, base = history(image("production")), history(BASE_IMAGE)
    assert own[len(own) - len(base) :] == base, "the production stage is not built on the base"
    added = own[: len(own) - len(base)]
    copies = [step for step in added if step.startswith("COPY ")]
    assert len(copies) >= 4, added
    assert [step for step in added if step.startswith("ADD ")] == []


def test_no_file_in_the_image_is_setuid_or_setgid(image):
    def privileged_files(tag: str) -> list[str]:
        return docker(
            "run", "--rm", "--user", "0", "--entrypoint", "find", tag,
            "/", "-xdev", "-perm", "/6000", "-type", "f",
        ).stdout.split()  # fmt: skip

    assert privileged_files(image("production")) == []
    # The same search does find them in the base image (su, passwd, ...).
    assert privileged_files(BASE_IMAGE)


def instrument_secret_mounts(dockerfile: str, netrc_digest: str) -> tuple[str, int]:
    """Make each RUN that mounts the netrc secret first check that it sees the file.

    The check runs inside the very RUN instruction, with its own mount flags,
    before its own command; the instruction is otherwise unchanged.
    """
    check = f'echo "{netrc_digest}  /root/.netrc" | sha256sum --check --status -'
    lines, pending, count = [], False, 0
    for line in dockerfile.splitlines():
        stripped = line.strip()
        if pending and not stripped.startswith("--mount="):
            indent = line[: len(line) - len(line.lstrip())]
            line, pending, count = f"{indent}{check} && {stripped}", False, count + 1
        elif "--mount=type=secret,id=netrc,target=/root/.netrc" in line:
            pending = True
        lines.append(line)
    return "\n".join(lines) + "\n", count


def test_build_secret_reaches_every_installing_step_and_leaves_no_trace(
    docker_session, default_project, tmp_path
):
    """A netrc given with --secret is mounted while installing, and stored nowhere.

    Why this is an honest proof: the template's Dockerfile is built with one change,
    made by instrument_secret_mounts: each RUN that mounts the netrc secret first
    checks that /root/.netrc has the SHA-256 of this test's netrc, in the same
    instruction and with the same mounts as its installer. The build succeeds only
    if pip, uv and Poetry had the credentials where they read them. The digest is
    new on every run, so those steps can never come from the build cache. The
    canary (the password) is in no instruction, and the digest reveals nothing
    about it; the image built that way is then searched for the canary: its
    history, its configuration, every byte of every layer, and the build's output.
    The index URL is the default and goes in as a build argument, as the README
    says; credentials never do.
    """
    canary = f"canary-{uuid.uuid4().hex}"
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine private-index.invalid login ci-user password {canary}\n")
    netrc.chmod(0o600)
    digest = hashlib.sha256(netrc.read_bytes()).hexdigest()
    template = (default_project / "Dockerfile").read_text(encoding="utf-8")
    instrumented, count = instrument_secret_mounts(template, digest)
    # Every RUN with the mount is checked: staging's and build's run here, and
    # they install everything that production copies.
    assert count == template.count("--mount=type=secret,id=netrc") >= 2
    dockerfile = tmp_path / "Dockerfile.secret-check"
    dockerfile.write_text(instrumented, encoding="utf-8")

    tag = f"{docker_session.name('secret')}:test"
    docker_session.images.add(tag)

    def build(*secret: str):
        return docker(
            "build", "--progress=plain", "--target", "production", "--tag", tag,
            "--file", str(dockerfile), *secret,
            "--build-arg", "PYPI_INDEX_URL=https://pypi.org/simple",
            str(default_project), check=bool(secret),
        )  # fmt: skip

    # The check can fail: without the secret, the first installing step stops.
    unmounted = build()
    assert unmounted.returncode != 0
    assert "sha256sum --check" in unmounted.stderr, unmounted.stderr[-3000:]
    mounted = build("--secret", f"id=netrc,src={netrc}")
    assert canary not in mounted.stdout + mounted.stderr

    history = docker("history", "--no-trunc", tag).stdout
    assert "COPY /opt/venv /opt/venv" in history
    assert canary not in history
    assert canary not in docker("image", "inspect", tag).stdout

    archive = tmp_path / "image.tar"
    docker("save", "--output", str(archive), tag)
    probe_text = b"Container health probe"  # from docker/healthcheck.py, inside a layer
    found_canary, found_probe, tail = False, False, b""
    with archive.open("rb") as saved:
        while chunk := saved.read(1 << 20):
            window = tail + chunk
            found_canary = found_canary or canary.encode() in window
            found_probe = found_probe or probe_text in window
            tail = window[-len(canary) :]
    assert found_probe, "the layers were not searched: a known file's text was not found"
    assert not found_canary


def tamper_hashes(lock: str, package: str) -> tuple[str, int]:
    """Change the last hex digit of every file hash of package in a poetry.lock."""
    pattern = re.compile(
        rf'(\{{file = "{re.escape(package)}-[^"]+", hash = "sha256:[0-9a-f]{{63}})([0-9a-f])"'
    )
    return pattern.subn(
        lambda match: f'{match.group(1)}{(int(match.group(2), 16) + 1) % 16:x}"', lock
    )


def test_a_tampered_package_hash_in_the_lock_fails_the_build(docker_session, image, project_copy):
    image("production")  # the untampered project builds
    lock = project_copy / "poetry.lock"
    original = re.findall(r'"flask-[^"]+", hash = "sha256:([0-9a-f]{64})"', lock.read_text())
    tampered, count = tamper_hashes(lock.read_text(encoding="utf-8"), "flask")
    assert count == len(original) >= 1
    lock.write_text(tampered, encoding="utf-8")

    tag = f"{docker_session.name('tampered')}:test"
    docker_session.images.add(tag)
    build = docker(
        "build", "--progress=plain", "--target", "production", "--tag", tag,
        str(project_copy), check=False,
    )  # fmt: skip
    output = build.stdout + build.stderr
    assert build.returncode != 0
    assert "Hash mismatch for `flask==" in output, output[-3000:]
    # What uv computed from the real download is the hash the lock had before.
    computed = output[output.index("Computed:") :]
    assert any(digest in computed for digest in original), output[-3000:]


# --- The app's production behaviour ------------------------------------------------


def test_app_refuses_to_start_without_a_secret_key(docker_session, image):
    name = docker_session.name("nosecret")
    docker_session.containers.add(name)
    docker("run", "--detach", "--name", name, image("production"))
    exit_code = docker("wait", name, timeout=60).stdout.strip()
    assert exit_code != "0"
    stdout, stderr = logs(name)
    assert "FLASK_SECRET_KEY is not set: refusing to start" in stdout + stderr


def test_debug_flag_never_turns_on_debugging_in_production(docker_session, image, tmp_path):
    container = run_test_app(
        docker_session, image("production"), tmp_path / "app", "--env", "FLASK_DEBUG=1"
    )
    base = docker_session.url(container, "")
    wait_for_http(f"{base}/health", container=container)

    for path in ("/no-such-page", "/console"):
        response = http_get(f"{base}{path}")
        assert response.status == 404
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["status"] == 404

    failure = http_get(f"{base}/_test/boom")
    assert failure.status == 500
    assert failure.headers["Content-Type"] == "application/json"
    assert failure.json()["status"] == 500
    for leak in ("Traceback", "RuntimeError", "internal detail", "faults_app", ".py"):
        assert leak not in failure.body
    # The traceback is for the operator: it is in the logs.
    wait_until(
        lambda: "RuntimeError: faults-app internal detail" in logs(container)[1],
        timeout=10,
        what="the traceback is logged",
    )


def test_workers_and_threads_follow_the_environment_and_requests_are_access_logged(
    docker_session, image
):
    container = docker_session.run(
        image("production"),
        options=(
            "--env", "WEB_CONCURRENCY=3",
            "--env", "GUNICORN_THREADS=2",
            # Gunicorn's own variable: print its configuration at start-up.
            "--env", "GUNICORN_CMD_ARGS=--log-level debug",
        ),
    )  # fmt: skip
    url = docker_session.url(container)
    wait_for_http(url, container=container)
    wait_until(lambda: len(worker_pids(container)) == 3, timeout=30, what="3 worker processes run")
    stderr = logs(container)[1]
    assert "Using worker: gthread" in stderr
    assert re.search(r"^\s*threads: 2$", stderr, re.MULTILINE), stderr[-3000:]
    assert re.search(r"^\s*workers: 3$", stderr, re.MULTILINE), stderr[-3000:]

    paths = [f"/health?access-log={number}" for number in range(5)]
    for path in paths:
        assert http_get(url.replace("/health", path)).status == 200

    def logged() -> bool:
        stdout = logs(container)[0]
        return all(f'"GET {path} HTTP/1.1" 200' in stdout for path in paths)

    wait_until(logged, timeout=10, what="every request has an access-log line on stdout")


@pytest.mark.parametrize(
    ("settings", "trusted"),
    [
        pytest.param((), False, id="ignored-by-default"),
        pytest.param(
            ("FLASK_TRUSTED_PROXIES=1", "FORWARDED_ALLOW_IPS=*"),
            True,
            id="believed-when-configured",
        ),
    ],
)
def test_forwarded_headers_are_believed_only_when_proxies_are_configured(
    docker_session, image, tmp_path, settings, trusted
):
    """The test's requests reach the container from Docker's gateway, not from loopback."""
    options = [option for setting in settings for option in ("--env", setting)]
    container = run_test_app(docker_session, image("production"), tmp_path / "app", *options)
    base = docker_session.url(container, "")
    wait_for_http(f"{base}/health", container=container)
    gateway = inspect(container)["NetworkSettings"]["Gateway"]
    assert gateway

    request = urllib.request.Request(
        f"{base}/_test/whoami",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
    )
    with HTTP.open(request, timeout=5) as response:
        seen = json.loads(response.read())
    if trusted:
        assert seen == {"scheme": "https", "remote_addr": "203.0.113.9"}
    else:
        assert seen == {"scheme": "http", "remote_addr": gateway}
