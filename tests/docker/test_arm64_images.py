"""arm64 for real: both images build for linux/arm64 under QEMU from nothing but PyPI and
Debian, and the production container serves /health on aarch64.

The base is python:3.13-slim's arm64 variant (Debian trixie, the official images' release):

- Where no registry answers (the CI machines), `test-machine/setup.sh up` builds an arm64
  stand-in for it from Debian's arm64 packages (test-machine/arm64.sh). It can never be
  tagged python:3.13-slim on this shared engine: its overlay2 image store keeps one image
  per tag, so that would replace the amd64 image the other tests build from. This module gives it a
  tag of its own in the python repository for the run, python:3.13-<run>-arm64-slim, and
  passes "3.13-<run>-arm64" as PYTHON_VERSION, the build argument that picks the base: the
  Dockerfile is built as generated, its FROM lines naming that image. The engine records
  an imported rootfs as amd64, so what proves the architecture is what runs inside:
  `uname -m`, platform.machine() and the ELF headers of the binaries.
- Where a registry answers (setup.sh pulled the official image), buildx builds with
  `--platform linux/arm64` in a docker-container builder of this run, from the real
  multi-arch image, and loads the result.

Bounded on purpose, it is the slowest module under emulation: the session's default
project, one development build (without layer cache: its time is a cold build's), one
production build (sharing the staging stage just built), one container. The build times
are printed, never asserted.
"""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.arm64 import ARM64_STAND_IN, BUILD_TIMEOUT, OFFICIAL_BASE, Arm64Build, StandInMissing
from harness.waits import http_get
from tests.docker.session import RUN_PREFIX, DockerSession
from tests.docker.waits import wait_for_http
from tests.helpers import docker, failing_the_test, pre_commit_shellcheck_version

pytestmark = pytest.mark.docker

# --- Building and probing under emulation -------------------------------------------

START_TIMEOUT = 120  # seconds for gunicorn to answer under emulation
AARCH64_ELF_MACHINE = 183  # EM_AARCH64, the e_machine field of an ELF header

# Printed by the development container: what runs, and where each linter comes from.
DEV_PROBE = r"""
import json, platform, shutil, subprocess

def sh(*command):
    return subprocess.run(command, capture_output=True, text=True)

def elf_machine(command):
    with open(shutil.which(command), "rb") as binary:
        header = binary.read(20)
    assert header[:4] == b"\x7fELF", command
    return int.from_bytes(header[18:20], "little")

print(json.dumps({
    "uname": sh("uname", "-m").stdout.strip(),
    "machine": platform.machine(),
    "codename": platform.freedesktop_os_release()["VERSION_CODENAME"],
    "shellcheck_path": shutil.which("shellcheck"),
    "shellcheck_owner": sh("dpkg", "-S", "/usr/bin/shellcheck").stdout.strip(),
    "shellcheck_package": sh("dpkg-query", "-W", "-f", "${Version}", "shellcheck").stdout,
    "shellcheck_version": sh("shellcheck", "--version").stdout,
    "shellcheck_run": sh("shellcheck", "docker/entrypoint.sh").returncode,
    "shellcheck_elf": elf_machine("shellcheck"),
    "hadolint_version": sh("hadolint", "--version").stdout.strip(),
    "hadolint_elf": elf_machine("hadolint"),
    "ruff_run": sh("ruff", "check", "--no-cache", ".").returncode,
    "ruff_elf": elf_machine("ruff"),
    "python_elf": elf_machine("python3"),
    "uv_elf": elf_machine("uv"),
}))
"""


def say(request: pytest.FixtureRequest, line: str) -> None:
    """A line in pytest's own output, captured or not (the measured build times)."""
    print(f"[arm64] {line}")  # in the captured output, should the test fail
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"[arm64] {line}")


class Arm64Builder:
    """Builds the project's stages for linux/arm64 in whichever way this machine allows
    (harness.arm64.Arm64Build), under this run's names."""

    def __init__(self, session: DockerSession, context: Path):
        self.session = session
        self.context = context
        try:
            self.arm64 = failing_the_test(Arm64Build)(
                f"{RUN_PREFIX}-arm64", builder=session.name("arm64-builder")
            )
        except StandInMissing as missing:
            pytest.fail(str(missing), pytrace=False)
        self.stand_in = self.arm64.stand_in
        if self.arm64.alias:
            session.images.add(self.arm64.alias)
            self.base = (
                f"{self.arm64.alias} (the arm64 stand-in {ARM64_STAND_IN}, Debian's packages)"
            )
        else:
            self.base = f"{OFFICIAL_BASE} (the official image's linux/arm64 variant, via buildx)"

    def build(self, target: str, *extra: str) -> tuple[str, float]:
        """Build target; return its tag and the build's wall-clock time in seconds."""
        tag = f"{self.session.name(f'arm64-{target}')}:test"
        self.session.images.add(tag)
        started = time.monotonic()
        docker(*self.arm64.command(target, tag, *extra), str(self.context), timeout=BUILD_TIMEOUT)
        return tag, time.monotonic() - started

    def close(self) -> None:
        failing_the_test(self.arm64.close)()


@pytest.fixture(scope="module")
def arm64(docker_session, default_project) -> Iterator[Arm64Builder]:
    builder = Arm64Builder(docker_session, default_project)
    try:
        yield builder
    finally:
        builder.close()


@pytest.fixture(scope="module")
def arm64_development(arm64, request) -> str:
    tag, seconds = arm64.build("development", "--no-cache")
    say(request, f"development image: {seconds:.1f} s, cold (no layer cache), {arm64.base}")
    return tag


@pytest.fixture(scope="module")
def arm64_production(arm64, arm64_development, request) -> str:
    # After the development build, as a user's second build: staging is cached.
    tag, seconds = arm64.build("production")
    say(request, f"production image: {seconds:.1f} s, staging cached, {arm64.base}")
    return tag


def test_development_image_builds_for_arm64_with_linters_from_pypi_and_debian(
    arm64_development, default_project
):
    result = docker(
        "run", "--rm", "--entrypoint", "python", arm64_development, "-c", DEV_PROBE,
        timeout=300,
    )  # fmt: skip
    probe = json.loads(result.stdout)
    assert (probe["uname"], probe["machine"]) == ("aarch64", "aarch64"), probe
    # Every binary that runs is aarch64: the interpreter, uv, and the linters' wheels and package.
    for binary in ("python_elf", "uv_elf", "ruff_elf", "hadolint_elf", "shellcheck_elf"):
        assert probe[binary] == AARCH64_ELF_MACHINE, (binary, probe)
    # shellcheck is Debian's package, and it works on the project's own script.
    assert probe["shellcheck_path"] == "/usr/bin/shellcheck"
    assert probe["shellcheck_owner"] == "shellcheck: /usr/bin/shellcheck"
    assert probe["shellcheck_run"] == 0
    # On trixie, the release of the official images, it is the version pre-commit pins.
    assert probe["codename"] == "trixie"
    version = pre_commit_shellcheck_version(default_project)
    assert f"version: {version}\n" in probe["shellcheck_version"], probe["shellcheck_version"]
    assert probe["shellcheck_package"].startswith(f"{version}-"), probe["shellcheck_package"]
    assert probe["hadolint_version"].startswith("Haskell Dockerfile Linter 2.")
    assert probe["ruff_run"] == 0


def test_production_container_reports_aarch64_and_serves_health(docker_session, arm64_production):
    container = docker_session.run(arm64_production)
    url = docker_session.url(container)
    wait_for_http(url, timeout=START_TIMEOUT, container=container)
    response = http_get(url, timeout=10)
    assert (response.status, response.json()) == (200, {"status": "ok"})
    assert docker("exec", container, "uname", "-m").stdout == "aarch64\n"
    machine = docker(
        "exec", container, "python", "-c", "import platform; print(platform.machine())"
    )
    assert machine.stdout == "aarch64\n"
    # The interpreter of the app's environment, which the server runs, is an aarch64 binary.
    header = docker(
        "exec", container, "python", "-c",
        "import os, sys; print(open(os.path.realpath(sys.executable), 'rb').read(20).hex())",
    ).stdout  # fmt: skip
    header = bytes.fromhex(header.strip())
    assert header[:4] == b"\x7fELF"
    assert int.from_bytes(header[18:20], "little") == AARCH64_ELF_MACHINE
