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

import pytest

from tests.docker.helpers import (
    AARCH64_ELF_MACHINE,
    DEV_PROBE,
    START_TIMEOUT,
    docker,
    http_get,
    pre_commit_shellcheck_version,
    wait_for_http,
)

pytestmark = pytest.mark.docker


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
