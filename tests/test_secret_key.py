"""The secret key: every bake writes its own, git never sees it, and `make .env`
writes a private one only when there is none (no Docker needed).

Its form and mode (FLASK_SECRET_KEY, 64 hex digits, 0600) and its exclusion from
the image's build context are checked for every option combination in
test_generation_matrix.py.
"""

import re
import shutil
import stat

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


def test_make_env_writes_a_private_secret_key_once(project_copy):
    env_file = project_copy / ".env"
    env_file.unlink()
    run("make", ".env", cwd=project_copy, timeout=60)
    written = env_file.read_text(encoding="utf-8")
    assert re.fullmatch(r"FLASK_SECRET_KEY=[0-9a-f]{64}\n", written)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    again = run("make", ".env", cwd=project_copy, timeout=60)
    assert env_file.read_text(encoding="utf-8") == written
    assert "up to date" in again.stdout
