"""Finish the generated project: drop what the answers exclude, say what next.

Cookiecutter runs this in the new project's folder. Answers arrive as JSON data,
never pasted into code, so any text is safe here. Importing the module does nothing;
main() does the work, so tests/test_post_gen_hook.py can render the hook, import
it and call each function on a folder of its own.

It writes no .env and no secret: the generated Makefile's .env target is their
only writer, and every target that needs them runs it first (make is all the
host needs, with Docker and Compose).
"""

import json
import os
import shutil
from pathlib import Path

# Each answer as JSON in a raw string: Jinja's tojson writes ' as \u0027, so no
# answer can end the string, and json.loads reads back exactly what was answered.
# fmt: off
APP_NAME = json.loads(r'{{ cookiecutter.app_name | tojson }}')
PORT = json.loads(r'{{ cookiecutter.port | tojson }}')
GITHUB_ACTIONS = json.loads(r'{{ cookiecutter.github_actions | tojson }}')
DATABASE = json.loads(r'{{ cookiecutter.database | tojson }}')
# fmt: on

# What only a project with a database has; removed when it has none.
DATABASE_FILES = [
    f"{APP_NAME}/database.py",
    f"{APP_NAME}/items.py",
    f"{APP_NAME}/migrations",
    "tests/test_database_settings.py",
    "tests/test_items.py",
    "tests/test_migrations.py",
    "tests/test_readiness.py",
]
# One lock per answer, each in sync with the pyproject.toml that answer renders.
POSTGRESQL_LOCK = "poetry.postgresql.lock"


def remove(path: Path) -> None:
    """Remove a file, or a folder with everything in it."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def drop_excluded(project: Path) -> None:
    """Remove what the answers leave out: the workflows, or the database's files."""
    if not GITHUB_ACTIONS:
        remove(project / ".github")
    if DATABASE == "postgresql":
        os.replace(project / POSTGRESQL_LOCK, project / "poetry.lock")
    else:
        remove(project / POSTGRESQL_LOCK)
        for name in DATABASE_FILES:
            remove(project / name)


def next_steps() -> str:
    if DATABASE == "postgresql":
        written = "a fresh key and database password"
    else:
        written = "a fresh secret key"
    return f"""
Generated {APP_NAME}/. Next steps:

    cd {APP_NAME}
    git init && git add . && git commit -m "Initial commit"
    make help        # every target, with a one-line description
    make dev         # development server with live reload
    make run         # production: the edge proxy in front of gunicorn
    curl http://localhost:{PORT}/health

The first make (make dev, make run, or any target that needs them) writes .env
and {written} in secrets/, and keeps them from then on.

The README in the project explains each file and every command.
"""


def main() -> None:
    project = Path.cwd()
    drop_excluded(project)
    print(next_steps())


if __name__ == "__main__":
    main()
