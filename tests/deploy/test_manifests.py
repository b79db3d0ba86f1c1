"""The Kubernetes manifests and container images, validated without a cluster or Docker: both
overlays render with `kubectl kustomize`, every object validates against the Kubernetes API
schemas (offline), and the invariants hold."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES = "1.30"
# Custom resources have no schema in the Kubernetes API; checked for their own shape below.
CUSTOM = {("postgresql.cnpg.io/v1", "Cluster")}
WORKLOADS = {"Deployment", "StatefulSet", "Job"}
SERVING = {"Deployment", "StatefulSet"}


def render(overlay: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed (Debian package `kubectl`)"
    out = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module", params=["dev", "prod"])
def objects(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def pod_of(obj: dict[str, Any]) -> dict[str, Any]:
    return dict(obj["spec"]["template"]["spec"])


def test_every_object_validates_against_the_kubernetes_schemas(
    objects: list[dict[str, Any]],
) -> None:
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "HorizontalPodAutoscaler",
            "NetworkPolicy", "Job", "StatefulSet", "Ingress", "Namespace"} <= kinds  # fmt: skip
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM:
            assert obj["spec"]["instances"] >= 1 and obj["metadata"]["name"] == "werkvloer-pg"
            continue
        kubernetes_validate.validate(obj, KUBERNETES, strict=True)


def test_every_container_is_limited_unprivileged_and_read_only(
    objects: list[dict[str, Any]],
) -> None:
    checked = 0
    for obj in (o for o in objects if o["kind"] in WORKLOADS):
        pod = pod_of(obj)
        assert pod["securityContext"]["runAsNonRoot"] is True, obj["metadata"]["name"]
        for container in pod["containers"]:
            where = f"{obj['kind']}/{obj['metadata']['name']}/{container['name']}"
            limits = container["resources"]["limits"]
            assert {"cpu", "memory"} <= set(limits), where
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            if obj["kind"] in SERVING:
                assert "livenessProbe" in container and "readinessProbe" in container, where
            checked += 1
    assert checked >= 8


def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = policy["spec"]["podSelector"].get("matchLabels", {})
    return all(labels.get(k) == v for k, v in wanted.items())


def test_every_workload_has_its_own_network_policy_and_only_the_gateway_faces_the_ingress(
    objects: list[dict[str, Any]],
) -> None:
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    assert any(
        p["metadata"]["name"] == "default-deny" and p["spec"]["podSelector"] == {} for p in policies
    )
    specific = [p for p in policies if p["spec"]["podSelector"]]
    for obj in (o for o in objects if o["kind"] in WORKLOADS):
        labels = obj["spec"]["template"]["metadata"]["labels"]
        assert any(_selects(p, labels) for p in specific), (
            f"{obj['metadata']['name']} has no policy"
        )
    facing = {
        p["metadata"]["name"]
        for p in specific
        for rule in p["spec"].get("ingress", [])
        for peer in rule.get("from", [])
        if peer.get("namespaceSelector", {})
        .get("matchLabels", {})
        .get("kubernetes.io/metadata.name")
        == "ingress-nginx"
    }
    assert facing == {"gateway"}
    backends = {
        path["backend"]["service"]["name"]
        for o in objects
        if o["kind"] == "Ingress"
        for rule in o["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"gateway"}


def test_no_secret_values_live_in_the_repository(objects: list[dict[str, Any]]) -> None:
    assert not [o for o in objects if o["kind"] == "Secret"]
    for path in list(K8S.rglob("*.yaml")) + list((ROOT / "deploy").rglob("*Dockerfile")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^kind:\s*Secret\s*$", text, re.MULTILINE), path
        assert not re.search(
            r"(?i)(password|secret|api_key)\s*[:=]\s*['\"]?[A-Za-z0-9+/]{8,}", text
        ), path


@pytest.mark.parametrize("name", ["gateway", "ideas", "reflection", "analytics"])
def test_each_image_is_multi_stage_non_root_and_checks_its_health(name: str) -> None:
    dockerfile = (ROOT / "deploy" / "docker" / f"{name}.Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) == 2
    assert re.search(r"^USER 10001", dockerfile, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", dockerfile, re.MULTILINE)
    extras = set(re.findall(r"--extra (\w+)", dockerfile))
    assert extras == {name}, "each image installs only its own extra"
    assert "VOLUME" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "var", "tests"} <= set(ignored)
