"""The message printed after generation tells exactly what to run next."""

import re
from pathlib import Path

from tests.helpers import TEMPLATE_DIR, cookiecutter_cli


def test_message_names_the_folder_and_real_make_targets(
    cookiecutter_config: Path, tmp_path: Path
) -> None:
    result = cookiecutter_cli(
        cookiecutter_config, TEMPLATE_DIR, tmp_path, "project_name=Billing API", "port=9090"
    )
    project = tmp_path / "billing_api"
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z.-]+):.*## ", makefile, re.MULTILINE))

    assert "cd billing_api" in result.stdout
    mentioned = set(re.findall(r"^\s*make (\S+)", result.stdout, re.MULTILINE))
    assert {"dev", "run", "help"} <= mentioned
    assert mentioned <= targets, f"the message names targets the Makefile lacks: {mentioned}"
    assert "http://localhost:9090/health" in result.stdout
    # The bake wrote neither: the message says which make does.
    assert not (project / ".env").exists()
    assert re.search(
        r"The first make \(make dev, make run,[^)]*\) writes \.env\s+and", result.stdout
    )
