"""The Deployment's pod, run for real by `podman kube play` with the production image.

No Kubernetes cluster can run on the CI machines; Podman runs a Deployment's pod
from its YAML with the securityContext enforced (user, read-only root,
capabilities, no-new-privileges, seccomp). The manifests are rendered with
`kubectl kustomize`, as `kubectl apply -k` would send them, and changed only
where a single machine needs it (podman_ready, below, says each).
"""

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from harness.waits import free_port, http_get
from tests.docker.session import RUN_PREFIX, parse_proc_status
from tests.docker.waits import wait_for_http
from tests.helpers import DEFAULT_APP_NAME, docker, run

pytestmark = pytest.mark.docker

# --- Podman: the Kubernetes Deployment's pod ------------------------------------------

# Podman's default rlimits exceed this sandbox's: no container would start.
PODMAN_CONF = '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n'
POD_KEY = "kube-tests-only-" + uuid.uuid4().hex


def podman_ready(deployment: dict, image: str, host_port: int, secret_dir: Path) -> dict:
    """The rendered Deployment, changed only where one machine without a cluster needs it:
    one replica; the image loaded from Docker, never pulled; the app's port published on
    loopback (hostPort); and the Secret volume as a folder holding the same key, mode
    and group (fsGroup) a Secret would give, since Podman 4.3.1 crashes on `secret:`
    volumes. The securityContext, probes, mounts and environment stay as they are."""
    ready = json.loads(json.dumps(deployment))
    ready["metadata"]["name"] = f"{RUN_PREFIX}-{deployment['metadata']['name']}"
    ready["spec"]["replicas"] = 1
    pod = ready["spec"]["template"]["spec"]
    [container] = pod["containers"]
    container["image"] = image
    container["imagePullPolicy"] = "Never"
    [port] = container["ports"]
    port.update(hostPort=host_port, hostIP="127.0.0.1")
    [volume] = [volume for volume in pod["volumes"] if "secret" in volume]
    mode, group = volume.pop("secret")["defaultMode"], pod["securityContext"]["fsGroup"]
    volume["hostPath"] = {"path": str(secret_dir), "type": "Directory"}
    secret_dir.chmod(0o755)  # as the kubelet makes a Secret's folder
    key_name = Path(next(e["value"] for e in container["env"] if e["name"].endswith("_FILE"))).name
    key_file = secret_dir / key_name
    key_file.write_text(POD_KEY, encoding="utf-8")
    os.chown(key_file, 0, group)
    key_file.chmod(mode)
    return ready


@dataclass
class KubePod:
    """A Deployment's pod under `podman kube play`, reached on a loopback port."""

    play_file: Path
    image: str
    port: int
    conf: Path
    container_spec: dict
    app: str = DEFAULT_APP_NAME
    key: str = POD_KEY

    @classmethod
    def play(cls, docker_image: str, project: Path, workdir: Path) -> "KubePod":
        conf = workdir / "containers.conf"
        conf.write_text(PODMAN_CONF, encoding="utf-8")
        archive = workdir / "image.tar"
        docker("save", "--output", str(archive), docker_image)
        loaded = podman_command(conf, "load", "--input", str(archive)).stdout
        image = loaded.strip().rsplit(" ", 1)[-1]  # "Loaded image: localhost/NAME:TAG"
        rendered = run("kubectl", "kustomize", "deploy/kubernetes", cwd=project).stdout
        [deployment] = [
            document
            for document in yaml.safe_load_all(rendered)
            if document["kind"] == "Deployment"
        ]
        secret_dir = workdir / "secret"
        secret_dir.mkdir()
        port = free_port()
        ready = podman_ready(deployment, image, port, secret_dir)
        play_file = workdir / "deployment.yaml"
        play_file.write_text(yaml.safe_dump(ready), encoding="utf-8")
        [spec] = ready["spec"]["template"]["spec"]["containers"]
        pod = cls(play_file, image, port, conf, spec)
        podman_command(conf, "kube", "play", "--replace", str(play_file))
        return pod

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def container(self) -> str:
        listed = podman_command(self.conf, "ps", "--format", "{{.Names}}").stdout.split()
        [name] = [name for name in listed if name.startswith(RUN_PREFIX) and name.endswith("-app")]
        return name

    def exec(self, *command: str) -> str:
        return podman_command(self.conf, "exec", self.container(), *command).stdout

    def inspect(self) -> str:
        return podman_command(self.conf, "inspect", self.container()).stdout

    def down(self) -> None:
        podman_command(self.conf, "kube", "down", str(self.play_file), check=False)
        podman_command(self.conf, "rmi", "--force", self.image, check=False)


def podman_command(conf: Path, *args: str, check: bool = True):
    return run(
        "podman", *args, env={**os.environ, "CONTAINERS_CONF": str(conf)}, check=check,
        timeout=300,
    )  # fmt: skip


# Run in the pod: whether the app's key is the mounted file's, and whether any
# FLASK_SECRET_KEY variable exists there at all.
READ_KEY = (
    "import os; from {app} import create_app; "
    "key = open(os.environ['FLASK_SECRET_KEY_FILE']).read().strip(); "
    "print(create_app().secret_key == key, 'FLASK_SECRET_KEY' in os.environ)"
)


@pytest.fixture(scope="module")
def kube_pod(production: str, default_project: Path, tmp_path_factory) -> Iterator[KubePod]:
    """The Deployment's pod, run by `podman kube play` from the rendered manifests."""
    pod = KubePod.play(production, default_project, tmp_path_factory.mktemp("kube"))
    try:
        wait_for_http(pod.url("/health"), timeout=60)
        yield pod
    finally:
        pod.down()


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
    fields = parse_proc_status(kube_pod.exec("cat", "/proc/1/status"))
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
