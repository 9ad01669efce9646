"""The production topology in docker-compose.yml is valid and keeps the promises of the README."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
LONG_RUNNING = ["rasa", "action-server", "gateway", "qdrant", "postgres", "redis"]


def test_compose_config_is_valid(tmp_path: Path) -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("Debian's docker-compose is not installed (make test installs it)")
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "docker-compose.yml", project / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", project / ".env")
    result = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config", "-q"],
        cwd=project, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_every_service_the_readme_names_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Production", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([a-z-]+)`\s+service", section))
    assert set(LONG_RUNNING) <= named, f"README production section must name {LONG_RUNNING}"
    assert named <= set(SERVICES), f"README names services compose lacks: {named - set(SERVICES)}"


def test_only_the_gateway_is_published() -> None:
    published = {name for name, svc in SERVICES.items() if svc.get("ports")}
    assert published <= {"gateway", "qdrant"}
    assert "gateway" in published
    for port in SERVICES["qdrant"].get("ports", []):
        assert str(port).startswith("127.0.0.1:"), "Qdrant's dashboard may only be published on loopback"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_health_checks(name: str) -> None:
    assert "healthcheck" in SERVICES[name]


def test_startup_order_waits_for_health() -> None:
    for name in ("rasa", "gateway", "action-server"):
        conditions = {dep["condition"] for dep in SERVICES[name]["depends_on"].values()}
        assert conditions <= {"service_healthy", "service_completed_successfully"}
    assert SERVICES["rasa"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert SERVICES["rasa"]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_rasa_runs_the_official_image_with_sql_tracker_and_redis_locks() -> None:
    assert SERVICES["rasa"]["image"] == "rasa/rasa:3.6.21-full"
    command = SERVICES["rasa"]["command"]
    endpoints = ROOT / command[command.index("--endpoints") + 1]
    config = yaml.safe_load(endpoints.read_text())
    assert config["tracker_store"]["type"] == "SQL"
    assert config["tracker_store"]["dialect"] == "postgresql"
    assert config["lock_store"]["type"] == "redis"
    assert "--auth-token" in command


def test_secrets_come_from_the_env_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    example = (ROOT / ".env.example").read_text()
    for secret in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "QDRANT_API_KEY", "AISLE_RASA_TOKEN"):
        assert f"${{{secret}" in text
        assert re.search(rf"^{secret}=", example, re.M)
    assert not re.search(r"PASSWORD:\s*['\"]?[a-z0-9]{6,}", text), "no literal passwords in compose"


def test_rasa_train_leaves_out_the_held_out_reviewed_examples(tmp_path: Path) -> None:
    """prepare writes `rasa-data`'s paths (reviewed examples minus the Rasa gate's held-out share)
    and rasa-train trains on exactly those, as `make build` does."""
    import subprocess
    import sys

    prepare = " ".join(SERVICES["prepare"]["command"])
    assert "python -m learning rasa-data --out data/.rasa-data > data/.rasa-data/paths.txt" in prepare
    assert SERVICES["rasa-train"]["entrypoint"] == ["sh", "-c"]
    train = " ".join(SERVICES["rasa-train"]["command"])
    assert train.startswith("rasa train ") and "--data $$(cat data/.rasa-data/paths.txt)" in train
    out = subprocess.run([sys.executable, "-m", "learning", "rasa-data", "--out", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=True).stdout.split()
    assert out and all(Path(p).exists() for p in out)
    assert not any("nlu/reviewed" in p for p in out)  # only the staged training share of it
