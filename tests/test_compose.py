"""The production topology in docker-compose.yml: docker-compose accepts it, the services reach
each other with the same secrets, what they mount and build from exists, and startup waits for
health. Resolved with Debian's docker-compose where it is installed (`make test` installs it)."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.engine import make_url

from common.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
LONG_RUNNING = ["rasa", "action-server", "gateway", "qdrant", "postgres", "redis"]
SECRETS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "QDRANT_API_KEY", "AISLE_RASA_TOKEN", "AISLE_LINK_SECRET")
# the services built from the Dockerfile and the project packages they start
PYTHON_IMAGE = {"prepare", "action-server", "gateway"}


def _env_file(**changes: str | None) -> str:
    """.env.example with ``changes`` applied (None removes the variable)."""
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        if name in changes:
            if changes[name] is None:
                continue
            line = f"{name}={changes[name]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def compose_config(tmp_path: Path, env_text: str) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (`make test` installs Debian's package)")
    project = tmp_path / f"project-{secrets.token_hex(4)}"
    project.mkdir()
    shutil.copy(ROOT / "docker-compose.yml", project / "docker-compose.yml")
    (project / ".env").write_text(env_text)
    return subprocess.run([binary, "-f", "docker-compose.yml", "config"], cwd=project,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


@pytest.fixture(scope="module")
def chosen() -> dict[str, str]:
    """Fresh secrets for this run: every service must end up with exactly these."""
    return {name: f"{name.lower()}-{secrets.token_hex(8)}" for name in SECRETS}


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory, chosen: dict[str, str]) -> dict:
    result = compose_config(tmp_path_factory.mktemp("compose"), _env_file(**chosen))
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def test_compose_accepts_the_file_with_the_example_env(tmp_path: Path) -> None:
    result = compose_config(tmp_path, _env_file())
    assert result.returncode == 0, result.stderr
    assert set(yaml.safe_load(result.stdout)["services"]) == set(SERVICES)


@pytest.mark.parametrize("secret", SECRETS)
def test_a_missing_secret_stops_compose_and_names_it(tmp_path: Path, secret: str) -> None:
    result = compose_config(tmp_path, _env_file(**{secret: None}))
    assert result.returncode != 0
    assert f"set {secret} in .env" in result.stderr


def test_every_service_gets_the_secrets_from_the_env_file(resolved: dict, chosen: dict) -> None:
    """No literal password anywhere: each secret reaches every service that needs it."""
    pg, redis, qdrant, token, link = (chosen[name] for name in SECRETS)
    assert resolved["postgres"]["environment"]["POSTGRES_PASSWORD"] == pg
    assert resolved["rasa"]["environment"]["POSTGRES_PASSWORD"] == pg
    assert resolved["redis"]["command"] == ["redis-server", "--requirepass", redis]
    assert resolved["redis"]["environment"]["REDIS_PASSWORD"] == redis  # its health check
    assert resolved["rasa"]["environment"]["REDIS_PASSWORD"] == redis
    assert resolved["qdrant"]["environment"]["QDRANT__SERVICE__API_KEY"] == qdrant
    command = resolved["rasa"]["command"]
    assert command[command.index("--auth-token") + 1] == token
    assert resolved["gateway"]["environment"]["AISLE_RASA_TOKEN"] == token
    for name in PYTHON_IMAGE:
        env = resolved[name]["environment"]
        assert env["AISLE_QDRANT_API_KEY"] == qdrant, name
        assert make_url(env["AISLE_SHOP_DB_URL"]).password == pg, name
        assert env["AISLE_LINK_SECRET"] == link, name  # signed by the actions, checked by the gateway


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


def _listens_on(service: dict) -> int:
    command = service["command"]
    flag = next(f for f in ("-p", "--port") if f in command)
    return int(command[command.index(flag) + 1])


@pytest.mark.parametrize("name", sorted(PYTHON_IMAGE))
def test_the_python_services_settings_point_at_the_other_services(
    resolved: dict, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment each Python service gets, read as its settings (as the process reads them),
    names the Qdrant, PostgreSQL (same database and user as the postgres service) and, for the
    gateway, the Rasa and action server it must talk to, on the ports those listen on."""
    for variable in [v for v in os.environ if v.startswith("AISLE_")]:
        monkeypatch.delenv(variable)
    for variable, value in resolved[name]["environment"].items():
        monkeypatch.setenv(variable, str(value))
    settings = get_settings()
    assert settings.store_backend == "server"
    assert _host_port(settings.qdrant_url) == ("qdrant", 6333)
    postgres = resolved["postgres"]["environment"]
    db = make_url(settings.shop_db_url)
    assert (db.host, db.port) == ("postgres", 5432)
    assert (db.username, db.password, db.database) == (
        postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"])
    if name == "gateway":
        assert _host_port(settings.rasa_url) == ("rasa", _listens_on(resolved["rasa"]))
        assert _host_port(settings.actions_url) == ("action-server", _listens_on(resolved["action-server"]))
        gateway_db = make_url(settings.gateway_db_url)
        assert (gateway_db.host, gateway_db.password) == ("postgres", postgres["POSTGRES_PASSWORD"])
        published = resolved["gateway"]["ports"]
        assert [int(p["target"]) for p in published] == [settings.gateway_port]
        assert settings.gateway_host == "0.0.0.0"  # reachable from the published port
        redis = make_url(settings.redis_url)  # the replicas' events and rate limits
        assert (redis.host, redis.port, redis.password) == (
            "redis", 6379, resolved["redis"]["environment"]["REDIS_PASSWORD"])
        assert redis.database != resolved["rasa"]["environment"]["REDIS_LOCK_DB"]


def test_rasa_has_every_variable_its_endpoints_file_reads(resolved: dict) -> None:
    rasa = resolved["rasa"]
    command = rasa["command"]
    endpoints = yaml.safe_load((ROOT / command[command.index("--endpoints") + 1]).read_text())

    def values(node: object) -> list[str]:
        if isinstance(node, dict):
            return [v for child in node.values() for v in values(child)]
        return [str(node)]

    needed = {name for value in values(endpoints) for name in re.findall(r"\$\{(\w+)\}", value)}
    assert {"AISLE_ACTIONS_URL", "POSTGRES_PASSWORD", "REDIS_PASSWORD"} <= needed
    env = rasa["environment"]
    assert {n for n in needed if not str(env.get(n) or "")} == set()
    assert _host_port(env["AISLE_ACTIONS_URL"]) == ("action-server", _listens_on(resolved["action-server"]))
    assert (env["POSTGRES_HOST"], env["REDIS_HOST"]) == ("postgres", "redis")
    postgres = resolved["postgres"]["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_DB"]) == (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"])


def test_what_the_services_build_from_and_mount_exists() -> None:
    for name, service in SERVICES.items():
        assert "image" in service or "build" in service, name
        if "build" in service:
            context = service["build"] if isinstance(service["build"], str) else service["build"]["context"]
            assert (ROOT / context / "Dockerfile").is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).is_dir(), f"{name} mounts {source}, missing from the repo"
            else:
                assert source in COMPOSE["volumes"], f"{name}: named volume {source} is not declared"
    rasa = SERVICES["rasa"]["command"]
    for option in ("--endpoints", "--credentials"):
        assert (ROOT / rasa[rasa.index(option) + 1]).is_file(), option
    # rasa loads the model rasa-train writes
    train = " ".join(SERVICES["rasa-train"]["command"]).split()
    written = f"{train[train.index('--out') + 1]}/{train[train.index('--fixed-model-name') + 1]}.tar.gz"
    assert rasa[rasa.index("-m") + 1] == written


def _copied_into_the_image() -> set[str]:
    copies = re.findall(r"^COPY\s+(\S+)\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    return {source.rstrip("/") for source, _ in copies}


def test_the_python_image_holds_every_package_its_services_import() -> None:
    """The packages the image's services start, with everything docs/architecture.md lets them
    import (tests/test_architecture.py holds the code to that rule)."""
    from tests.test_architecture import ALLOWED

    started = {"actions", "bot", "learning", "recommender", "tools"}
    needed, todo = set(), list(started)
    while todo:
        package = todo.pop()
        if package not in needed:
            needed.add(package)
            todo.extend(ALLOWED[package])
    assert needed - _copied_into_the_image() == set()


def test_only_the_gateway_is_published() -> None:
    published = {name for name, svc in SERVICES.items() if svc.get("ports")}
    assert published <= {"gateway", "qdrant"}
    assert "gateway" in published
    for port in SERVICES["qdrant"].get("ports", []):
        assert str(port).startswith("127.0.0.1:"), "Qdrant's dashboard may only be published on loopback"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_health_checks(name: str) -> None:
    check = SERVICES[name]["healthcheck"]
    assert check["test"][0] == "CMD-SHELL" and check["test"][1].strip()
    assert check["retries"] >= 3


def test_startup_order_waits_for_health() -> None:
    for name in ("rasa", "gateway", "action-server"):
        conditions = {dep["condition"] for dep in SERVICES[name]["depends_on"].values()}
        assert conditions <= {"service_healthy", "service_completed_successfully"}
    assert SERVICES["rasa"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert SERVICES["rasa"]["depends_on"]["redis"]["condition"] == "service_healthy"
    # whatever a service waits on to be healthy has a health check
    for name, service in SERVICES.items():
        for dependency, wait in (service.get("depends_on") or {}).items():
            if wait["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], f"{name} waits on {dependency}"


def test_rasa_runs_the_official_image_with_sql_tracker_and_redis_locks() -> None:
    assert SERVICES["rasa"]["image"] == "rasa/rasa:3.6.21-full"
    command = SERVICES["rasa"]["command"]
    endpoints = ROOT / command[command.index("--endpoints") + 1]
    config = yaml.safe_load(endpoints.read_text())
    # Rasa's SQL tracker store, read from memory and windowed (rasa_ext/tracker_store.py)
    assert config["tracker_store"]["type"] == "rasa_ext.tracker_store.ObjectTrackerStore"
    assert config["tracker_store"]["dialect"] == "postgresql"
    assert config["lock_store"]["type"] == "redis"
    assert "--auth-token" in command


def test_rasa_train_leaves_out_the_held_out_reviewed_examples(tmp_path: Path) -> None:
    """prepare writes `rasa-data`'s paths (reviewed examples minus the Rasa gate's held-out share)
    and rasa-train trains on exactly those, as `make build` does."""
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


# --- docker-compose.yml and `make cluster` (tools/cluster.py) run the same parts alike ----------
# variables only one of them has, and why
ONLY_COMPOSE = {
    "AISLE_STORE", "AISLE_QDRANT_URL", "AISLE_QDRANT_API_KEY",  # the cluster's store is Qdrant Edge
    "AISLE_SHOP_SEED",  # the cluster is a demo: it keeps the default demo seed
    "AISLE_CORS_ORIGINS", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "RASA_TELEMETRY_ENABLED",
}
ONLY_CLUSTER = {
    "AISLE_STORE_PATH", "AISLE_VAR_DIR",  # each process's own folder on one machine
    "AISLE_TRUST_PROXY",  # HAProxy in front of the gateways
}
KINDS = {"gateway": "gateway-1", "action-server": "actions-1", "rasa": "rasa-1"}


@pytest.mark.parametrize("service", sorted(KINDS))
def test_compose_and_make_cluster_give_each_part_the_same_settings(
        resolved: dict, service: str, tmp_path: Path) -> None:
    from tools.cluster import plan, programs

    cluster = programs(plan(tmp_path))
    command, env, _ = cluster[KINDS[service]]
    relevant = re.compile(r"^(AISLE_|POSTGRES_|REDIS_)")
    in_compose = {k for k in resolved[service].get("environment", {}) if relevant.match(k)}
    in_cluster = {k for k in env if relevant.match(k)}
    assert in_compose - ONLY_COMPOSE == in_cluster - ONLY_CLUSTER
    if service == "rasa":  # the same endpoints file: SQL tracker store, Redis lock store
        compose_command = resolved["rasa"]["command"]
        endpoints = compose_command[compose_command.index("--endpoints") + 1]
        assert f"--endpoints {ROOT / endpoints} " in command
    if service == "gateway":  # events and limits apart from Rasa's locks, in both
        for url, lock_db in ((env["AISLE_REDIS_URL"], cluster["rasa-1"][1]["REDIS_LOCK_DB"]),
                             (resolved["gateway"]["environment"]["AISLE_REDIS_URL"],
                              resolved["rasa"]["environment"]["REDIS_LOCK_DB"])):
            assert make_url(url).database != lock_db
