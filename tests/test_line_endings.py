"""A project generated or checked out on Windows keeps LF where Docker needs it."""

import shutil
from pathlib import Path

import pytest
from binaryornot.check import is_binary
from cookiecutter.main import cookiecutter

from tests.helpers import DEFAULT_ANSWERS, TEMPLATE_DIR, run

# The files a CR would break inside the image or on the build host.
LF_CRITICAL = ["docker/entrypoint.sh", "docker/healthcheck.py", "Dockerfile", "Makefile"]
NOT_TEMPLATE = [".git", ".venv", "generated", ".pytest_cache", ".hypothesis", "__pycache__"]


def text_files(root: Path) -> list[Path]:
    return [
        path
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.parts and not is_binary(str(path))
    ]


def test_template_files_checked_out_with_crlf_still_generate_lf(tmp_path: Path) -> None:
    """A Windows checkout without the template's .gitattributes has CRLF files;
    cookiecutter's _new_lines setting still writes every rendered file with LF.
    Files in _copy_without_render (poetry.lock) are copied byte for byte, and
    TOML reads CRLF as well as LF."""
    template = tmp_path / "template"
    shutil.copytree(TEMPLATE_DIR, template, ignore=shutil.ignore_patterns(*NOT_TEMPLATE))
    for path in text_files(template / "{{cookiecutter.app_name}}"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert b"\r\n" in (template / "{{cookiecutter.app_name}}" / "Dockerfile").read_bytes()

    project = Path(cookiecutter(str(template), no_input=True, output_dir=str(tmp_path / "out")))

    copied_verbatim = set(DEFAULT_ANSWERS["_copy_without_render"])
    with_cr = [
        str(path.relative_to(project))
        for path in text_files(project)
        if b"\r" in path.read_bytes() and path.name not in copied_verbatim
    ]
    assert with_cr == []


@pytest.mark.parametrize("path", LF_CRITICAL)
def test_checkout_with_autocrlf_keeps_lf(default_project: Path, tmp_path: Path, path: str) -> None:
    """git on Windows (core.autocrlf=true) converts text files to CRLF unless
    the project's .gitattributes says eol=lf."""
    repo = tmp_path / "repo"
    shutil.copytree(default_project, repo)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    run(*git, "init", "-q", cwd=repo)
    run(*git, "add", "-A", cwd=repo)
    run(*git, "commit", "-qm", "generated", cwd=repo)

    clone = tmp_path / "windows-clone"
    run("git", "-c", "core.autocrlf=true", "clone", "-q", repo, clone)

    assert b"\r" not in (clone / path).read_bytes()


def test_template_repository_keeps_lf_in_every_checkout() -> None:
    script = "{{cookiecutter.app_name}}/docker/entrypoint.sh"
    result = run("git", "check-attr", "eol", "--", script, cwd=TEMPLATE_DIR)
    assert result.stdout.strip().endswith("eol: lf")


def test_gitattributes_force_lf_where_a_cr_would_break_the_image(default_project, tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(default_project, checkout)
    run("git", "init", "--quiet", cwd=checkout)
    paths = ["docker/entrypoint.sh", "Dockerfile", "Makefile"]
    attributes = run("git", "check-attr", "eol", "text", "--", *paths, cwd=checkout).stdout
    for path in paths:
        assert f"{path}: eol: lf" in attributes.splitlines()
        assert f"{path}: text: set" in attributes.splitlines()
