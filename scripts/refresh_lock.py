"""Refresh the generated project's locks: `make lock`, after editing its pyproject.toml.

The template keeps one lock per answer to `database` (the dependencies differ),
each copied into a project unrendered, and the post-generation hook keeps the
one that fits; so each must match the pyproject.toml that answer renders. For
each, this bakes the template into a temporary folder, runs `poetry lock` there
(which keeps the locked versions that still fit; pass --regenerate to move
everything to the newest versions allowed), copies the lock back into the
template and says whether it changed.

Run it with the tooling venv's Python (make lock does): it uses cookiecutter's
Python API and the poetry command installed beside that Python.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
PROJECT_DIR = TEMPLATE_DIR / "{{cookiecutter.app_name}}"
# The template's lock for each answer to `database`.
LOCKS = {
    "none": PROJECT_DIR / "poetry.lock",
    "postgresql": PROJECT_DIR / "poetry.postgresql.lock",
}


def tool(name: str) -> str:
    """A command installed next to this Python (the tooling venv), else from PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        sys.exit(f"{name} not found: run this with the tooling venv's Python (make lock).")
    return found


def bake(output_dir: Path, database: str) -> Path:
    try:
        from cookiecutter.main import cookiecutter
    except ImportError:
        sys.exit("cookiecutter is not installed here: run this with the tooling venv (make lock).")
    # A user config of its own, so no replay file lands in the home folder.
    config = output_dir / "cookiecutter-config.yaml"
    settings = {"cookiecutters_dir": str(output_dir / "c"), "replay_dir": str(output_dir / "r")}
    config.write_text(json.dumps(settings), encoding="utf-8")  # JSON is YAML
    return Path(
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            extra_context={"database": database},
            output_dir=str(output_dir / "out"),
            config_file=str(config),
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--regenerate",
        action="store_true",
        help="ignore the locked versions and resolve everything anew (newest allowed)",
    )
    args = parser.parse_args()

    env = dict(os.environ)
    # Poetry's PyPI client needs PyPI's JSON API; the pypi-mirror plugin makes it
    # use the simple API of the index pip uses (as tests/conftest.py does).
    env.setdefault("POETRY_PYPI_MIRROR_URL", env.get("PIP_INDEX_URL", "https://pypi.org/simple/"))
    env.pop("VIRTUAL_ENV", None)  # lock for the project, not for an activated venv
    env["POETRY_VIRTUALENVS_IN_PROJECT"] = "true"  # any venv Poetry makes goes with the folder

    command = [tool("poetry"), "lock", "--no-interaction"]
    if args.regenerate:
        command.append("--regenerate")
    for database, template_lock in LOCKS.items():
        name = template_lock.relative_to(TEMPLATE_DIR)
        with tempfile.TemporaryDirectory(prefix="refresh-lock-") as workdir:
            project = bake(Path(workdir), database)
            print(f"database={database}: $", " ".join(command), flush=True)
            subprocess.run(command, cwd=project, env=env, check=True)
            subprocess.run([tool("poetry"), "check", "--lock"], cwd=project, env=env, check=True)
            after = (project / "poetry.lock").read_bytes()
        if after == template_lock.read_bytes():
            print(f"{name} is unchanged.")
        else:
            template_lock.write_bytes(after)
            print(f"{name} changed: review `git diff` and commit it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
