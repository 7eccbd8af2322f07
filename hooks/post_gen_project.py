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
    "github_actions": {{ cookiecutter.github_actions | tojson }}
}"""
)

if not ANSWERS["github_actions"]:
    shutil.rmtree(".github")

# The compose file reads the secret key from .env, so `make run` works untouched.
# .gitignore keeps it out of git; only the owner may read it.
env_file = Path(".env")
env_file.write_text(
    f"FLASK_SECRET_KEY={secrets.token_hex(32)}\n"
    "# A name pointing at this host, for HTTPS on 80/443 with automatic certificates (make run)\n"
    "DOMAIN=\n",
    encoding="utf-8",
)
os.chmod(env_file, 0o600)

print(
    f"""
Generated {ANSWERS["app_name"]}/. Next steps:

    cd {ANSWERS["app_name"]}
    git init && git add . && git commit -m "Initial commit"
    make help        # every target, with a one-line description
    make dev         # development server with live reload
    make run         # production image, served by gunicorn
    curl http://localhost:{ANSWERS["port"]}/health

The README in the project explains each file and every command.
"""
)
