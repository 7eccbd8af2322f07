"""The post-gen hook, rendered and imported as a module, its functions called on a
folder of the test's own (no bake).

The hook is rendered with cookiecutter's own environment and the answers cookiecutter
would give it (the defaults, with the overrides a test asks for), then imported:
importing runs nothing, main() does. A real bake runs it as a script in the new
project's folder; that route is covered by every test that bakes.
"""

import importlib.util
import io
import os
from contextlib import redirect_stdout
from pathlib import Path
from types import ModuleType

import pytest
from cookiecutter.environment import StrictEnvironment
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

from tests.helpers import DEFAULT_APP_NAME, TEMPLATE_DIR

HOOK = TEMPLATE_DIR / "hooks" / "post_gen_project.py"


def answers(**overrides) -> dict:
    """The answers cookiecutter gives the hook for these overrides (--no-input)."""
    context = generate_context(TEMPLATE_DIR / "cookiecutter.json", extra_context=overrides)
    return prompt_for_config(context, no_input=True)


def rendered_hook(tmp_path: Path, **overrides) -> ModuleType:
    """The hook rendered for these answers, imported as a module."""
    cookiecutter = answers(**overrides)
    environment = StrictEnvironment(context={"cookiecutter": cookiecutter})
    source = environment.from_string(HOOK.read_text(encoding="utf-8")).render(
        cookiecutter=cookiecutter
    )
    path = tmp_path / "hook" / "post_gen_project.py"
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("post_gen_project", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_project(root: Path, hook: ModuleType) -> Path:
    """A folder with every file and folder the hook may keep or remove."""
    project = root / hook.APP_NAME
    names = [".github/workflows/ci.yml", "poetry.lock", hook.POSTGRESQL_LOCK, "pyproject.toml"]
    names += [
        f"{name}/env.py" if name.endswith("migrations") else name for name in hook.DATABASE_FILES
    ]
    for name in names:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(f"{name}\n", encoding="utf-8")
    return project


def tree(project: Path) -> dict[str, str]:
    return {
        path.relative_to(project).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(project.rglob("*"))
        if path.is_file()
    }


def test_the_answers_arrive_as_data_of_their_own_types(tmp_path):
    hook = rendered_hook(tmp_path, project_name="Billing API", port="9090", github_actions=False)
    assert (hook.APP_NAME, hook.PORT, hook.GITHUB_ACTIONS) == ("billing_api", "9090", False)
    assert hook.DATABASE == "none"


@pytest.mark.parametrize(
    "text", ['x"""; raise SystemExit(3) #', "back\\slash\\", "\u2028 <&> \U0001f600 '''"]
)
def test_any_text_in_an_answer_stays_data(tmp_path, text):
    """The pre-gen hook refuses such names; rendered anyway, each is still a value."""
    hook = rendered_hook(tmp_path, app_name=text, port=text)
    assert hook.APP_NAME == hook.PORT == text


def test_importing_the_hook_changes_nothing(tmp_path, monkeypatch):
    project = fake_project(tmp_path, rendered_hook(tmp_path / "first"))
    before = tree(project)
    monkeypatch.chdir(project)
    output = io.StringIO()
    with redirect_stdout(output):
        rendered_hook(tmp_path / "second")
    assert tree(project) == before
    assert output.getvalue() == ""


def test_without_github_actions_the_workflows_go(tmp_path):
    hook = rendered_hook(tmp_path, github_actions=False)
    project = fake_project(tmp_path, hook)
    hook.drop_excluded(project)
    assert not (project / ".github").exists()


def test_with_github_actions_the_workflows_stay(tmp_path):
    hook = rendered_hook(tmp_path, github_actions=True)
    project = fake_project(tmp_path, hook)
    hook.drop_excluded(project)
    assert (project / ".github/workflows/ci.yml").is_file()


def test_without_a_database_its_files_and_its_lock_go(tmp_path):
    hook = rendered_hook(tmp_path, database="none")
    project = fake_project(tmp_path, hook)
    hook.drop_excluded(project)
    left = tree(project)
    assert left["poetry.lock"] == "poetry.lock\n"  # the lock without PostgreSQL
    assert hook.POSTGRESQL_LOCK not in left
    for name in hook.DATABASE_FILES:
        assert not (project / name).exists(), name
    assert f"{DEFAULT_APP_NAME}/migrations" in hook.DATABASE_FILES


def test_with_postgresql_its_lock_becomes_the_lock_and_its_files_stay(tmp_path):
    hook = rendered_hook(tmp_path, database="postgresql")
    project = fake_project(tmp_path, hook)
    hook.drop_excluded(project)
    left = tree(project)
    assert left["poetry.lock"] == f"{hook.POSTGRESQL_LOCK}\n"
    assert hook.POSTGRESQL_LOCK not in left
    for name in hook.DATABASE_FILES:
        assert (project / name).exists(), name


def test_the_next_steps_name_the_folder_and_the_port(tmp_path):
    hook = rendered_hook(tmp_path, project_name="Billing API", port="9090")
    message = hook.next_steps()
    assert "Generated billing_api/." in message
    assert "    cd billing_api\n" in message
    assert "curl http://localhost:9090/health" in message


@pytest.mark.parametrize(
    ("database", "secrets"),
    [("none", "a fresh secret key"), ("postgresql", "a fresh key and database password")],
)
def test_the_next_steps_say_the_first_make_writes_env_and_the_secrets(tmp_path, database, secrets):
    message = " ".join(rendered_hook(tmp_path, database=database).next_steps().split())
    assert "The first make (make dev, make run, " in message
    assert f"writes .env and {secrets} in secrets/, and keeps them" in message


def test_main_finishes_the_project_in_the_current_folder_and_says_what_next(tmp_path, monkeypatch):
    hook = rendered_hook(tmp_path, github_actions=False, database="none")
    project = fake_project(tmp_path, hook)
    monkeypatch.chdir(project)
    output = io.StringIO()
    with redirect_stdout(output):
        hook.main()
    assert not (project / ".github").exists()
    assert not (project / hook.POSTGRESQL_LOCK).exists()
    assert output.getvalue().strip() == hook.next_steps().strip()
    assert os.getcwd() == str(project)


@pytest.mark.parametrize("database", ["none", "postgresql"])
def test_main_writes_no_env_file_and_no_secret(tmp_path, monkeypatch, database):
    """The generated Makefile's .env target is their only writer (tests/test_secret_key.py)."""
    hook = rendered_hook(tmp_path, database=database)
    project = fake_project(tmp_path, hook)
    before = set(tree(project))
    monkeypatch.chdir(project)
    with redirect_stdout(io.StringIO()):
        hook.main()
    assert not (project / ".env").exists()
    assert not (project / "secrets").exists()
    assert set(tree(project)) <= before  # it only removes or renames
