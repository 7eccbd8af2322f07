"""Building the project's images for linux/arm64, in whichever way this machine allows.

Both ways build the Dockerfile as generated, from python:3.13-slim's arm64 variant:

- Where no registry answers, python:3.13-slim is a local stand-in (it carries
  STAND_IN_LABEL) and `test-machine/setup.sh up` has built an arm64 stand-in from
  Debian's arm64 packages (test-machine/arm64.sh). It is given a tag of the caller's
  own in the python repository, python:3.13-<name>-slim, and "3.13-<name>" is passed
  as PYTHON_VERSION, the build argument that picks the base. uv's image is replaced
  with arm64.sh's stand-in of its arm64 variant (--build-context).
- Where one answers, buildx builds with `--platform linux/arm64` in a docker-container
  builder named <name>, which pulls the official image into a store of its own (the
  engine's python:3.13-slim is left alone) and loads the result.
"""

import re
from pathlib import Path

from harness.containers import docker, image_label

PYTHON = "3.13"
OFFICIAL_BASE = f"python:{PYTHON}-slim"
# test-machine/arm64.sh names it so; the label marks setup.sh's stand-ins.
ARM64_STAND_IN = f"poetry-docker/python-arm64:{PYTHON}-slim"
STAND_IN_LABEL = "org.poetry-docker.stand-in"
# uv's image, as the template's Dockerfile copies uv from it, and arm64.sh's stand-in of
# its arm64 variant, built from the same version's aarch64 wheel.
TEMPLATE_DOCKERFILE = Path(__file__).parents[1] / "{{cookiecutter.app_name}}" / "Dockerfile"
UV_IMAGE = re.search(
    r"^COPY --from=(ghcr\.io/astral-sh/uv:\S+) ",
    TEMPLATE_DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE,
).group(1)  # fmt: skip
ARM64_UV_STAND_IN = "poetry-docker/uv-arm64:" + UV_IMAGE.rsplit(":", 1)[1]
BUILD_TIMEOUT = 1800  # seconds per build under emulation (measured: a few minutes)


class StandInMissing(Exception):
    """python:3.13-slim is a local stand-in, and the arm64 stand-in is not there."""


class Arm64Build:
    """How this machine builds for linux/arm64; close() removes the builder, if any
    (the caller removes alias, the stand-in's tag, with its other images)."""

    def __init__(self, name: str, builder: str | None = None):
        """name: unique to the caller's run, for the stand-in's tag; builder: the buildx
        builder's name (by default name)."""
        self.stand_in = image_label(OFFICIAL_BASE, STAND_IN_LABEL) in ("true", None)
        self.alias: str | None = None
        self.builder: str | None = None
        self.contexts: list[str] = []
        if self.stand_in:
            for stand_in in (ARM64_STAND_IN, ARM64_UV_STAND_IN):
                if image_label(stand_in, STAND_IN_LABEL) != "true":
                    raise StandInMissing(
                        f"{OFFICIAL_BASE} is a local stand-in (no registry answered) and the "
                        f"arm64 stand-in {stand_in} is missing: run test-machine/setup.sh up"
                    )
            # The build takes uv's arm64 binaries where the Dockerfile names uv's image.
            self.contexts = ["--build-context", f"{UV_IMAGE}=docker-image://{ARM64_UV_STAND_IN}"]
            self.python_version = f"{PYTHON}-{name}"
            self.alias = f"python:{self.python_version}-slim"
            docker("tag", ARM64_STAND_IN, self.alias)
        else:
            self.python_version = PYTHON
            self.builder = builder or name
            docker("buildx", "create", "--name", self.builder, "--driver", "docker-container")

    def command(self, target: str, tag: str, *extra: str) -> list[str]:
        """The docker arguments that build target for linux/arm64 as tag; the caller
        adds the build context."""
        common = [
            "--target", target, "--tag", tag,
            "--build-arg", f"PYTHON_VERSION={self.python_version}", *self.contexts, *extra,
        ]  # fmt: skip
        if self.builder:
            return ["buildx", "build", "--builder", self.builder, "--platform", "linux/arm64",
                    "--load", *common]  # fmt: skip
        return ["build", *common]

    def close(self) -> None:
        if self.builder:
            docker("buildx", "rm", "--force", self.builder, check=False)
