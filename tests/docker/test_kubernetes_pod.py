"""The Deployment's pod, run for real by `podman kube play` with the production image.

No Kubernetes cluster can run on the CI machines; Podman runs a Deployment's pod
from its YAML with the securityContext enforced (user, read-only root,
capabilities, no-new-privileges, seccomp). The manifests are rendered with
`kubectl kustomize`, as `kubectl apply -k` would send them, and changed only
where a single machine needs it (helpers.podman_ready_deployment says each).
"""

import json

import pytest

from tests.docker.helpers import http_get

pytestmark = pytest.mark.docker

# Run in the pod: whether the app's key is the mounted file's, and whether any
# FLASK_SECRET_KEY variable exists there at all.
READ_KEY = (
    "import os; from {app} import create_app; "
    "key = open(os.environ['FLASK_SECRET_KEY_FILE']).read().strip(); "
    "print(create_app().secret_key == key, 'FLASK_SECRET_KEY' in os.environ)"
)


def test_the_pod_serves_health(kube_pod):
    response = http_get(kube_pod.url("/health"))
    assert (response.status, response.json()) == (200, {"status": "ok"})


def test_every_probe_endpoint_answers(kube_pod):
    """Podman 4.3 does not run httpGet probes without systemd, so the test asks each
    probe's path and port itself, as the kubelet would."""
    probes = [kube_pod.container_spec[name] for name in ("livenessProbe", "readinessProbe")]
    assert probes
    for probe in probes:
        check = probe["httpGet"]
        assert check["port"] == "http"
        assert http_get(kube_pod.url(check["path"])).status == 200


def test_the_pod_runs_as_uid_10001_with_no_capabilities(kube_pod):
    status = kube_pod.exec("cat", "/proc/1/status")
    fields = {line.split(":")[0]: line.split()[1:] for line in status.splitlines()}
    assert fields["Uid"] == ["10001"] * 4
    assert fields["Gid"] == ["10001"] * 4
    assert fields["CapEff"] == ["0000000000000000"]
    assert fields["NoNewPrivs"] == ["1"]
    assert fields["Seccomp"] == ["2"]  # filtering: the RuntimeDefault profile


def test_the_root_filesystem_is_read_only_and_tmp_is_writable(kube_pod):
    refused = kube_pod.exec("sh", "-c", "touch /probe 2>&1; true")
    assert "Read-only file system" in refused
    kube_pod.exec("sh", "-c", "echo ok > /tmp/probe")


def test_the_secret_key_is_read_from_the_mounted_file(kube_pod):
    printed = kube_pod.exec("python", "-c", READ_KEY.format(app=kube_pod.app))
    assert printed.split() == ["True", "False"]
    environment = json.loads(kube_pod.inspect())[0]["Config"]["Env"]
    assert not any(item.startswith("FLASK_SECRET_KEY=") for item in environment)
    assert kube_pod.key not in json.dumps(environment)
