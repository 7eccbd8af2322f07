"""`make help` (and `make` alone) lists every public target of the generated Makefile,
each with its description, and no internal one.

It needs no Docker: the Makefile only asks `docker compose version` (quietly) to
choose a Compose, which fails harmlessly where there is none. The targets that
run Compose are tested for real in tests/docker/.
"""

import re
import subprocess

from tests.helpers import ANSI

# Rules of the generated Makefile that `make help` must not list: internal helpers.
INTERNAL_TARGETS = {"compose-check"}
PUBLIC_TARGETS = {
    "help", ".env", "dev", "watch", "run", "smoke", "test", "lint", "shell", "add", "logs", "ps",
    "down", "clean",
}  # fmt: skip


def test_make_help_lists_every_target_with_its_description(default_project):
    makefile = (default_project / "Makefile").read_text(encoding="utf-8")
    rules = {
        match[1]
        for match in re.finditer(r"^([A-Za-z0-9_.-]+):", makefile, re.MULTILINE)
        if not re.fullmatch(r"\.[A-Z_]+", match[1])  # .PHONY and other special targets
    }
    described = dict(re.findall(r"^([A-Za-z0-9_.-]+):.*?## (.+)$", makefile, re.MULTILINE))
    assert rules - set(described) == INTERNAL_TARGETS
    assert set(described) == PUBLIC_TARGETS

    result = subprocess.run(
        ["make", "help"],
        cwd=default_project,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listed = dict(
        line.strip().split(maxsplit=1) for line in ANSI.sub("", result.stdout).splitlines()
    )
    assert listed == {target: text.strip() for target, text in described.items()}
    # `make` alone prints the same list.
    bare = subprocess.run(["make"], cwd=default_project, capture_output=True, text=True, timeout=60)
    assert bare.stdout == result.stdout
