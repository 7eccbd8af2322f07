"""The template repository's own code is clean: its hooks, scripts and CI workflow.

(Its unrendered Jinja files are not Python or shell: they are linted once rendered,
in test_linting_generated_project.py.)
"""

from tests.helpers import TEMPLATE_DIR, run, tool


def test_template_python_passes_ruff():
    python = [
        *sorted((TEMPLATE_DIR / "hooks").glob("*.py")),
        TEMPLATE_DIR / "local_extensions.py",
    ]
    run(tool("ruff"), "check", "--no-cache", *python, cwd=TEMPLATE_DIR)
    run(tool("ruff"), "format", "--no-cache", "--check", *python, cwd=TEMPLATE_DIR)


def test_template_shell_scripts_pass_shellcheck():
    scripts = [*sorted((TEMPLATE_DIR / "test-machine").glob("*.sh")), TEMPLATE_DIR / ".ci" / "run"]
    assert len(scripts) >= 2
    run(tool("shellcheck"), *scripts, cwd=TEMPLATE_DIR)


def test_template_workflow_passes_actionlint_and_the_workflow_schema():
    workflow = ".github/workflows/test.yml"
    assert run(tool("actionlint"), workflow, cwd=TEMPLATE_DIR).stdout == ""
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", workflow,
        cwd=TEMPLATE_DIR)  # fmt: skip
