"""The secret key: every bake writes its own, git never sees it, and `make .env`
writes a private one only when there is none (no Docker needed).

Its form and mode (64 hex digits in secrets/flask_secret_key, 0640) and its
exclusion from the image's build context are checked for every option
combination in test_generation_matrix.py.
"""

import re
import shutil
import stat

from tests.helpers import bake_ok, run

KEY_FILE = "secrets/flask_secret_key"


def test_each_bake_gets_its_own_secret_key(cookies):
    first = bake_ok(cookies) / KEY_FILE
    second = bake_ok(cookies) / KEY_FILE
    assert first.read_text(encoding="utf-8") != second.read_text(encoding="utf-8")


def test_git_ignores_the_env_file_and_the_key(default_project, tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(default_project, checkout)
    run("git", "init", "--quiet", cwd=checkout)
    run("git", "add", "--all", cwd=checkout)
    staged = run("git", "diff", "--cached", "--name-only", cwd=checkout).stdout.splitlines()
    assert "pyproject.toml" in staged
    assert ".env" not in staged
    assert KEY_FILE not in staged
    for ignored in (".env", KEY_FILE):
        run("git", "check-ignore", "--quiet", ignored, cwd=checkout)


def test_make_env_writes_the_settings_and_a_private_secret_key_once(project_copy):
    env_file, key_file = project_copy / ".env", project_copy / KEY_FILE
    baked_env = env_file.read_text(encoding="utf-8")
    env_file.unlink()
    shutil.rmtree(key_file.parent)
    run("make", ".env", cwd=project_copy, timeout=60)
    written_env, key = env_file.read_text(encoding="utf-8"), key_file.read_text(encoding="utf-8")
    assert written_env == baked_env  # what make writes is what the template wrote
    assert re.fullmatch(r"[0-9a-f]{64}\n", key)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o640
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o750
    again = run("make", ".env", cwd=project_copy, timeout=60)
    assert (env_file.read_text(encoding="utf-8"), key_file.read_text(encoding="utf-8")) == (
        written_env,
        key,
    )
    assert "up to date" in again.stdout


def test_make_env_keeps_your_settings_when_only_the_key_is_missing(project_copy):
    env_file, key_file = project_copy / ".env", project_copy / KEY_FILE
    env_file.write_text("DOMAIN=api.example.com\n", encoding="utf-8")
    key_file.unlink()
    run("make", ".env", cwd=project_copy, timeout=60)
    assert env_file.read_text(encoding="utf-8") == "DOMAIN=api.example.com\n"
    assert re.fullmatch(r"[0-9a-f]{64}\n", key_file.read_text(encoding="utf-8"))
