"""The message printed after generation tells exactly what to run next."""

import re
import sys
from pathlib import Path

from tests.helpers import TEMPLATE_DIR, run

COOKIECUTTER = [sys.executable, "-m", "cookiecutter"]


def test_message_names_the_folder_and_real_make_targets(tmp_path: Path) -> None:
    result = run(
        *COOKIECUTTER, "--no-input", "--output-dir", tmp_path, TEMPLATE_DIR,
        "project_name=Billing API", "port=9090",
    )  # fmt: skip
    project = tmp_path / "billing_api"
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z.-]+):.*## ", makefile, re.MULTILINE))

    assert "cd billing_api" in result.stdout
    mentioned = set(re.findall(r"^\s*make (\S+)", result.stdout, re.MULTILINE))
    assert {"dev", "run", "help"} <= mentioned
    assert mentioned <= targets, f"the message names targets the Makefile lacks: {mentioned}"
    assert "http://localhost:9090/health" in result.stdout
