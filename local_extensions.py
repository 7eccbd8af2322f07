"""Jinja filters of this template (cookiecutter's "local extensions").

Free text from the answers (names, descriptions) is written into TOML only
through these, so quotes, backslashes and any Unicode still parse.
"""

import json

from cookiecutter.utils import simple_filter


@simple_filter
def toml_string(value: str) -> str:
    """Quote `value` as a TOML basic string.

    JSON's escapes are a subset of TOML's; ensure_ascii=False keeps characters
    outside the BMP whole (TOML rejects the surrogate pairs JSON would write),
    and DEL, which JSON leaves bare, is a control character TOML wants escaped.
    """
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")
