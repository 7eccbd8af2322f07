"""Refuse answers that would generate a broken project, before any file is written.

Cookiecutter removes the half-made project folder when this hook exits non-zero.
Answers arrive as JSON data, never pasted into code, so any text is safe here.
"""

import json
import keyword
import re
import sys

ANSWERS = {
    field: str(value)
    for field, value in json.loads(
        r"""{
    "project_name": {{ cookiecutter.project_name | tojson }},
    "app_name": {{ cookiecutter.app_name | tojson }},
    "description": {{ cookiecutter.description | tojson }},
    "author_name": {{ cookiecutter.author_name | tojson }},
    "author_email": {{ cookiecutter.author_email | tojson }},
    "version": {{ cookiecutter.version | tojson }},
    "port": {{ cookiecutter.port | tojson }},
    "poetry_version": {{ cookiecutter.poetry_version | tojson }},
    "github_owner": {{ cookiecutter.github_owner | tojson }}
}"""
    ).items()
}

# Import names of the generated project's own dependencies (a template test keeps
# this in step with both locks): a package named like one of them would shadow it.
DEPENDENCY_MODULES = {
    "alembic", "blinker", "click", "colorama", "dotenv", "flask", "flask_migrate",
    "flask_sqlalchemy", "gunicorn", "hadolint", "iniconfig", "itsdangerous",
    "jinja2", "mako", "markupsafe", "packaging", "pluggy", "psycopg",
    "psycopg_binary", "pygments", "pytest", "ruff", "sqlalchemy",
    "typing_extensions", "tzdata", "werkzeug", "zizmor",
}  # fmt: skip
# Names that are not in the standard library's list but would still shadow something.
RESERVED_NAMES = {"test", "tests", "docker", "setup", "conftest", "app"}

# PEP 440's canonical grammar, from its appendix (case-insensitive, verbose).
PEP440_VERSION = re.compile(
    r"""
    v?(?:(?:[0-9]+)!)?[0-9]+(?:\.[0-9]+)*
    (?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?
    (?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?
    (?:[-_.]?dev[-_.]?[0-9]*)?
    (?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?
    """,
    re.VERBOSE | re.IGNORECASE,
)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PACKAGE_NAME = re.compile(r"[a-z][a-z0-9_]*")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A GitHub login as ghcr.io takes it: lowercase letters, digits, single hyphens inside.
GITHUB_OWNER = re.compile(r"[a-z0-9](?:-?[a-z0-9])*")


def problems():
    app_name = ANSWERS["app_name"]
    if not PACKAGE_NAME.fullmatch(app_name):
        rule = (
            "must be a lowercase ASCII Python identifier: a letter, then letters, "
            "digits or underscores (PEP 8 package name)"
        )
        yield "app_name", app_name, rule
    elif keyword.iskeyword(app_name) or keyword.issoftkeyword(app_name):
        yield "app_name", app_name, "must not be a Python keyword"
    elif app_name in sys.stdlib_module_names or app_name in RESERVED_NAMES:
        yield "app_name", app_name, "must not shadow a standard library module"
    elif app_name in DEPENDENCY_MODULES:
        yield "app_name", app_name, "must not shadow one of the project's dependencies"

    for field in ("project_name", "author_name"):
        if not ANSWERS[field].strip():
            yield field, ANSWERS[field], "must not be empty"
    for field in ("project_name", "description", "author_name"):
        if CONTROL_CHARACTERS.search(ANSWERS[field]):
            yield field, ANSWERS[field], "must be a single line without control characters"

    if not EMAIL.fullmatch(ANSWERS["author_email"]):
        yield "author_email", ANSWERS["author_email"], "must look like name@domain.tld"

    for field in ("version", "poetry_version"):
        if not PEP440_VERSION.fullmatch(ANSWERS[field]):
            yield field, ANSWERS[field], "must be a PEP 440 version such as 0.1.0"
    if not ANSWERS["poetry_version"].startswith("2."):
        yield "poetry_version", ANSWERS["poetry_version"], "must be a Poetry 2.x version"

    owner = ANSWERS["github_owner"]
    if len(owner) > 39 or not GITHUB_OWNER.fullmatch(owner):
        rule = (
            "must be a GitHub user or organisation in lowercase: letters, digits and "
            "single hyphens, not at either end, 39 characters at most"
        )
        yield "github_owner", owner, rule

    port = ANSWERS["port"]
    if not (port.isascii() and port.isdigit() and 1024 <= int(port) <= 65535):
        yield "port", port, "must be a whole number from 1024 to 65535"


errors = [f"  {field} = {value!r}: {rule}" for field, value, rule in problems()]
if errors:
    print("ERROR: the project was not generated:", *errors, sep="\n", file=sys.stderr)
    sys.exit(1)
