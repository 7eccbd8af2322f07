"""The test machine sets up the images the generated project names, read from the
template's own files rather than from a second list to keep in step with them
(`test-machine/setup.sh images`, which needs no engine)."""

import os
import re

from tests.helpers import TEMPLATE_DIR, run

PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.app_name}}"


def listed_images() -> list[str]:
    env = {name: value for name, value in os.environ.items() if name != "PYTHON_VERSIONS"}
    return run(TEMPLATE_DIR / "test-machine" / "setup.sh", "images", env=env).stdout.split()


def test_the_database_image_is_the_one_compose_names():
    compose = (PROJECT_TEMPLATE / "compose.yaml").read_text(encoding="utf-8")
    named = re.findall(r"^\s*image:\s*[\"']?(postgres:[^\s\"']+)", compose, flags=re.MULTILINE)
    if "cookiecutter.database" in compose:
        assert len(named) == 1, "the db service must name one postgres:<tag> image"
    assert [image for image in listed_images() if image.startswith("postgres:")] == named


def test_the_edge_image_is_the_one_its_dockerfile_names():
    dockerfile = (PROJECT_TEMPLATE / "docker" / "edge" / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^FROM\s+(\S+)", dockerfile, flags=re.MULTILINE).group(1)
    assert base in listed_images()


def test_the_uv_image_is_the_one_the_app_dockerfile_copies_from():
    dockerfile = (PROJECT_TEMPLATE / "Dockerfile").read_text(encoding="utf-8")
    [image] = re.findall(r"^COPY --from=(ghcr\.io/astral-sh/uv:\S+) ", dockerfile, flags=re.M)
    assert image in listed_images()
