"""Finish the generated project: drop what the answers exclude, write .env, say what next.

Answers arrive as JSON data, never pasted into code.
"""

import json
import os
import secrets
import shutil
from pathlib import Path

ANSWERS = json.loads(
    r"""{
    "app_name": {{ cookiecutter.app_name | tojson }},
    "port": {{ cookiecutter.port | tojson }},
    "github_actions": {{ cookiecutter.github_actions | tojson }},
    "database": {{ cookiecutter.database | tojson }}
}"""
)
APP = ANSWERS["app_name"]
# What only a project with a database has; removed when it has none.
DATABASE_FILES = [
    f"{APP}/database.py",
    f"{APP}/items.py",
    f"{APP}/migrations",
    "tests/test_database_settings.py",
    "tests/test_items.py",
    "tests/test_migrations.py",
    "tests/test_readiness.py",
]

if not ANSWERS["github_actions"]:
    shutil.rmtree(".github")

# One lock per answer, each in sync with the pyproject.toml that answer renders.
if ANSWERS["database"] == "postgresql":
    os.replace("poetry.postgresql.lock", "poetry.lock")
else:
    os.remove("poetry.postgresql.lock")
    for name in DATABASE_FILES:
        if Path(name).is_dir():
            shutil.rmtree(name)
        else:
            os.remove(name)

# A fresh secret key (and database password), each in a file of its own, which
# compose mounts as a secret, so `make run` works untouched. .gitignore keeps
# them out of git. Mode 0640: you and your own group, which the containers join
# (compose.yaml says why).
secrets_dir = Path("secrets")
secrets_dir.mkdir(mode=0o750)
secret_files = ["flask_secret_key"]
if ANSWERS["database"] == "postgresql":
    secret_files.append("postgres_password")  # PostgreSQL's and the app's, alike
for name in secret_files:
    secret_file = secrets_dir / name
    secret_file.write_text(f"{secrets.token_hex(32)}\n", encoding="utf-8")
    os.chmod(secret_file, 0o640)

# Settings that compose reads (and Flask, outside Docker); never the key itself.
env_file = Path(".env")
env_file.write_text(
    "FLASK_SECRET_KEY_FILE=secrets/flask_secret_key\n"
    "# A name pointing at this host, for HTTPS on 80/443 with automatic certificates (make run)\n"
    "DOMAIN=\n",
    encoding="utf-8",
)

print(
    f"""
Generated {ANSWERS["app_name"]}/. Next steps:

    cd {ANSWERS["app_name"]}
    git init && git add . && git commit -m "Initial commit"
    make help        # every target, with a one-line description
    make dev         # development server with live reload
    make run         # production: the edge proxy in front of gunicorn
    curl http://localhost:{ANSWERS["port"]}/health

The README in the project explains each file and every command.
"""
)
