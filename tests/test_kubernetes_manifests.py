"""The Kubernetes manifests: valid for both versions the README names, and every
setting the issue asks for is there, read from the rendered manifests as data.

`kubectl kustomize deploy/kubernetes` renders them as `kubectl apply -k` would
(kubectl ships kustomize); kubernetes-validate checks them against the API's own
schemas, strictly (an unknown field is an error). The pod itself runs under
Podman in tests/docker/test_kubernetes_pod.py.
"""

import re
from pathlib import Path

import pytest
import yaml

from tests.helpers import bake_ok, run, tool

MANIFESTS = "deploy/kubernetes"
# The two Kubernetes minor versions whose schemas the generated README says are checked.
CLAIMED_VERSIONS = ("1.30", "1.37")
KINDS = {
    "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler",
    "NetworkPolicy", "Ingress",
}  # fmt: skip
DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def render(project: Path) -> dict[str, dict]:
    """The objects `kubectl apply -k deploy/kubernetes` would send, by kind."""
    output = run("kubectl", "kustomize", MANIFESTS, cwd=project).stdout
    objects = [document for document in yaml.safe_load_all(output) if document]
    by_kind = {document["kind"]: document for document in objects}
    assert len(by_kind) == len(objects), "one object of each kind"
    return by_kind


def container(objects: dict[str, dict]) -> dict:
    [app] = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    return app


def env(objects: dict[str, dict]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container(objects).get("env", [])}


@pytest.fixture(scope="module")
def objects(default_project) -> dict[str, dict]:
    return render(default_project)


@pytest.fixture(scope="module")
def pod_spec(objects) -> dict:
    return objects["Deployment"]["spec"]["template"]["spec"]


# --- Valid, and complete ------------------------------------------------------------


def test_the_folder_renders_the_whole_service(objects):
    assert set(objects) == KINDS


@pytest.mark.parametrize("version", CLAIMED_VERSIONS, ids=lambda version: f"k8s-{version}")
def test_manifests_pass_strict_schema_validation(default_project, tmp_path, version):
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(run("kubectl", "kustomize", MANIFESTS, cwd=default_project).stdout)
    result = run(tool("kubernetes-validate"), "--strict", "-k", f"{version}.0", rendered)
    assert result.stdout.count(" passed ") == len(KINDS), result.stdout


@pytest.mark.parametrize("version", CLAIMED_VERSIONS, ids=lambda version: f"k8s-{version}")
def test_the_readme_command_creates_a_valid_secret(project_copy, tmp_path, version):
    """The Secret is not shipped (it is created with kubectl); the README's command,
    after its `make .env`, must give one whose name and key the Deployment mounts."""
    readme = (project_copy / "README.md").read_text(encoding="utf-8")
    [command] = re.findall(r"^kubectl create secret generic .+$", readme, re.MULTILINE)
    assert "\nmake .env " in readme
    run("make", ".env", cwd=project_copy, timeout=60)
    secret = tmp_path / "secret.yaml"
    created = run(*command.split(), "--dry-run=client", "--output=yaml", cwd=project_copy).stdout
    secret.write_text(created, encoding="utf-8")
    run(tool("kubernetes-validate"), "--strict", "-k", f"{version}.0", secret)

    manifest = yaml.safe_load(created)
    objects = render(project_copy)
    [volume] = [
        volume
        for volume in objects["Deployment"]["spec"]["template"]["spec"]["volumes"]
        if "secret" in volume
    ]
    assert volume["secret"]["secretName"] == manifest["metadata"]["name"]
    [mount] = [
        mount for mount in container(objects)["volumeMounts"] if mount["name"] == volume["name"]
    ]
    key_file = env(objects)["FLASK_SECRET_KEY_FILE"]
    assert Path(key_file).parent == Path(mount["mountPath"])
    assert Path(key_file).name in manifest["data"]


# --- Names and the image ------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param({}, "my-flask-service", id="default"),
        pytest.param({"project_name": "Billing API v2"}, "billing-api-v2", id="billing_api_v2"),
        pytest.param({"app_name": "a_b__c9"}, "a-b--c9", id="double-underscore"),
    ],
)
def test_object_names_are_the_app_name_with_dashes(cookies, answers, expected):
    objects = render(bake_ok(cookies, **answers))
    for kind, manifest in objects.items():
        name = manifest["metadata"]["name"]
        assert name == expected, kind
        assert DNS_1123_LABEL.fullmatch(name), name


def test_the_image_is_named_once_with_a_fixed_tag(cookies):
    project = bake_ok(cookies, github_owner="acme-corp", version="2.3.0")
    kustomization = yaml.safe_load((project / MANIFESTS / "kustomization.yaml").read_text())
    [image] = kustomization["images"]
    assert image["newName"] == "ghcr.io/acme-corp/my-flask-service"
    assert image["newTag"] == "2.3.0"
    assert container(render(project))["image"] == "ghcr.io/acme-corp/my-flask-service:2.3.0"
    # Named nowhere else among the manifests.
    sources = [path.read_text() for path in (project / MANIFESTS).glob("*.yaml")]
    assert sum(source.count("ghcr.io/") for source in sources) == 1


def test_the_image_tag_is_never_latest(objects):
    assert not container(objects)["image"].endswith(":latest")
    assert ":" in container(objects)["image"]


# --- The Deployment -------------------------------------------------------------------


def test_rollouts_keep_every_desired_replica(objects):
    spec = objects["Deployment"]["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert spec["strategy"]["rollingUpdate"]["maxSurge"] >= 1


def test_the_pod_carries_the_compose_hardening_over(pod_spec, objects):
    assert pod_spec["automountServiceAccountToken"] is False
    pod_security = pod_spec["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert (pod_security["runAsUser"], pod_security["runAsGroup"]) == (10001, 10001)
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container(objects)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}


def test_the_only_writable_place_is_an_empty_dir_on_tmp(pod_spec, objects):
    volumes = {volume["name"]: volume for volume in pod_spec["volumes"]}
    writable = [
        mount
        for mount in container(objects)["volumeMounts"]
        if not mount.get("readOnly") and "secret" not in volumes[mount["name"]]
    ]
    assert [(mount["mountPath"], "emptyDir" in volumes[mount["name"]]) for mount in writable] == [
        ("/tmp", True)
    ]


def test_resources_request_cpu_and_memory_and_limit_memory(objects):
    resources = container(objects)["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert "memory" in resources["limits"]


def test_probes_check_health_on_the_app_port(objects):
    app = container(objects)
    port = {port["name"]: port["containerPort"] for port in app["ports"]}
    for probe in ("livenessProbe", "readinessProbe"):
        check = app[probe]["httpGet"]
        assert check["path"] == "/health"
        assert port[check["port"]] == 8888


def test_the_grace_period_outlasts_the_pre_stop_pause_and_gunicorns_timeout(objects, pod_spec):
    pre_stop = container(objects)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    pause = float(pre_stop[1])
    graceful = float(env(objects)["GUNICORN_GRACEFUL_TIMEOUT"])
    assert pause > 0 and graceful > 0
    assert pod_spec["terminationGracePeriodSeconds"] > pause + graceful


def test_the_secret_key_is_a_file_never_an_environment_variable(objects, pod_spec):
    names = {item["name"] for item in container(objects)["env"]}
    assert "FLASK_SECRET_KEY" not in names
    assert not any("valueFrom" in item for item in container(objects)["env"])
    assert env(objects)["FLASK_SECRET_KEY_FILE"].startswith("/run/secrets/")
    [secret_volume] = [volume for volume in pod_spec["volumes"] if "secret" in volume]
    [mount] = [m for m in container(objects)["volumeMounts"] if m["name"] == secret_volume["name"]]
    assert mount["readOnly"] is True
    # Readable by the pod's group only (fsGroup owns the volume's files).
    assert pod_spec["securityContext"]["fsGroup"] == 10001
    assert secret_volume["secret"]["defaultMode"] == 0o440


# --- The objects around it ------------------------------------------------------------


def test_service_pdb_hpa_and_network_policy_select_the_deployments_pods(objects):
    labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert objects["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert objects["Service"]["spec"]["selector"].items() <= labels.items()
    for kind in ("PodDisruptionBudget", "NetworkPolicy"):
        selector = objects[kind]["spec"].get("selector") or objects[kind]["spec"]["podSelector"]
        assert selector["matchLabels"].items() <= labels.items(), kind


def test_the_disruption_budget_keeps_one_pod_serving(objects):
    assert objects["PodDisruptionBudget"]["spec"]["minAvailable"] >= 1


def test_the_autoscaler_scales_the_deployment_on_cpu(objects):
    spec = objects["HorizontalPodAutoscaler"]["spec"]
    assert spec["scaleTargetRef"]["name"] == objects["Deployment"]["metadata"]["name"]
    assert spec["minReplicas"] >= 2
    [metric] = spec["metrics"]
    assert metric["resource"]["name"] == "cpu"


def test_the_network_policy_admits_only_the_app_port(objects):
    spec = objects["NetworkPolicy"]["spec"]
    assert spec["policyTypes"] == ["Ingress"]
    [rule] = spec["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8888}]


def test_the_ingress_routes_to_the_service_with_tls(objects):
    spec = objects["Ingress"]["spec"]
    [tls] = spec["tls"]
    [rule] = spec["rules"]
    assert rule["host"] in tls["hosts"]
    [path] = rule["http"]["paths"]
    assert path["backend"]["service"]["name"] == objects["Service"]["metadata"]["name"]


def test_the_readme_applies_the_folder_it_names(default_project):
    readme = (default_project / "README.md").read_text(encoding="utf-8")
    assert f"kubectl apply -k {MANIFESTS}" in readme
    assert (default_project / MANIFESTS / "kustomization.yaml").is_file()
