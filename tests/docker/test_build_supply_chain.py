"""The build's supply chain: credentials stay secret, and the lock's hashes are enforced.

A private index's netrc, given with `docker build --secret`, reaches every step
that installs packages and leaves no trace in the image, its history or the build
output; a tampered package hash in poetry.lock fails the build. How the README
documents the secret is checked without Docker, in tests/test_generated_readme.py.
"""

import hashlib
import re
import uuid

import pytest

from tests.helpers import docker

pytestmark = pytest.mark.docker


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
