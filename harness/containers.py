"""Docker, run with BuildKit on, and what images say about themselves."""

import os
import subprocess

from harness.commands import run

# For docker and docker compose. UID and GID as the generated Makefile exports them:
# compose.yaml gives them to the dev service (user) and to app (group_add), so that both
# can read the project's 0640 secret key file.
# Not the state of a make that runs us (the template's `make test`): the generated
# project's make would inherit it and print "make[1]: Entering directory" lines.
MAKE_STATE = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
BUILD_ENV = {name: value for name, value in os.environ.items() if name not in MAKE_STATE} | {
    "DOCKER_BUILDKIT": "1", "UID": str(os.getuid()), "GID": str(os.getgid())
}  # fmt: skip


def docker(
    *args: str, check: bool = True, timeout: float = 600, **kwargs
) -> subprocess.CompletedProcess:
    """Run `docker ARGS` (by default in BUILD_ENV); with check, raise CommandFailed if it
    fails. The keyword arguments are harness.commands.run's."""
    kwargs.setdefault("env", BUILD_ENV)
    return run(["docker", *args], check=check, timeout=timeout, **kwargs)


def image_label(image: str, label: str) -> str | None:
    """The label's value on a local image, "" if unset, None if there is no such image."""
    result = docker(
        "image", "inspect", "-f", f'{{{{index .Config.Labels "{label}"}}}}', image, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else None
