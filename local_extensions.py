"""Jinja filters of this template (cookiecutter's "local extensions").

Free text from the answers (names, descriptions) is written into TOML only
through these, so quotes, backslashes and any Unicode still parse; names that
another system restricts more than app_name are derived here, once.
"""

import json
import re

from cookiecutter.utils import simple_filter


@simple_filter
def toml_string(value: str) -> str:
    """Quote `value` as a TOML basic string.

    JSON's escapes are a subset of TOML's; ensure_ascii=False keeps characters
    outside the BMP whole (TOML rejects the surrogate pairs JSON would write),
    and DEL, which JSON leaves bare, is a control character TOML wants escaped.
    """
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


@simple_filter
def cloud_run_service(value: str) -> str:
    """A Cloud Run service name made from `value` (app_name): lowercase letters,
    digits and dashes, a letter first, no dash last, 49 characters at most.

    `gcloud run deploy` refuses app_name's underscores, so each run of other
    characters becomes one dash.
    """
    name = re.sub(r"[^a-z0-9]+", "-", str(value).lower()).lstrip("-0123456789")
    return name[:49].rstrip("-")
