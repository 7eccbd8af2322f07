"""The secret key: every bake writes its own, and git never sees it.

Its form and mode (FLASK_SECRET_KEY, 64 hex digits, 0600) and its exclusion from
the image's build context are checked for every option combination in
test_generation_matrix.py.
"""

import shutil

from tests.helpers import bake_ok, run


def test_each_bake_gets_its_own_secret_key(cookies):
    first = bake_ok(cookies) / ".env"
    second = bake_ok(cookies) / ".env"
    assert first.read_text(encoding="utf-8") != second.read_text(encoding="utf-8")


def test_git_ignores_the_env_file(default_project, tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(default_project, checkout)
    run("git", "init", "--quiet", cwd=checkout)
    run("git", "add", "--all", cwd=checkout)
    staged = run("git", "diff", "--cached", "--name-only", cwd=checkout).stdout.splitlines()
    assert "pyproject.toml" in staged
    assert ".env" not in staged
    run("git", "check-ignore", "--quiet", ".env", cwd=checkout)
