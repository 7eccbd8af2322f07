"""The README's Cloud Run example is a command Cloud Run accepts, for every answer.

Its service name follows Cloud Run's rule (lowercase letters, digits and dashes, a
letter first, no dash last, 49 characters at most), derived from app_name in one place
(local_extensions.cloud_run_service): `gcloud run deploy my_flask_service` is refused.
"""

import re

import pytest

from tests.helpers import bake_ok, gcloud_run_deploy

CLOUD_RUN_SERVICE = re.compile(r"[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?")

# Valid app_name answers (the pre-generation hook's rule) that Cloud Run's rule is not.
AWKWARD_NAMES = [
    pytest.param({}, "my-flask-service", id="default"),
    pytest.param({"project_name": "Zoë's Café"}, "zoe-s-cafe", id="from-project-name"),
    pytest.param({"app_name": "a"}, "a", id="one-letter"),
    pytest.param({"app_name": "api_"}, "api", id="trailing-underscore"),
    pytest.param({"app_name": "billing__api"}, "billing-api", id="double-underscore"),
    pytest.param({"app_name": "v2_api_3"}, "v2-api-3", id="digits"),
    pytest.param({"app_name": "s" * 49}, "s" * 49, id="49-letters"),
    pytest.param({"app_name": "s" * 60}, "s" * 49, id="60-letters"),
    pytest.param({"app_name": "s" * 48 + "_tail"}, "s" * 48, id="cut-at-an-underscore"),
]


@pytest.mark.parametrize(("answers", "service"), AWKWARD_NAMES)
def test_the_service_name_follows_cloud_runs_rule_for_every_app_name(cookies, answers, service):
    command = gcloud_run_deploy(bake_ok(cookies, **answers))
    name = command[3]
    assert CLOUD_RUN_SERVICE.fullmatch(name), f"gcloud run deploy {name}: not a Cloud Run name"
    assert name == service
