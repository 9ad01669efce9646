"""`make cluster`: the production topology on this machine, without Docker (docs/architecture.md §7).

Two gateways behind HAProxy (Debian's package), two Rasa servers (SQL tracker store on
PostgreSQL, Redis lock store: `deploy/endpoints.production.yml`), two action servers behind a
second HAProxy frontend, all under one supervisord that restarts whatever exits. The gateways
share their store and the shop's data in PostgreSQL and their websocket events and rate limits in
Redis (AISLE_REDIS_URL); the gateway's Rasa client goes round robin over both Rasa servers. Each
action server opens its own copy of the Qdrant Edge store (an embedded store is one process's);
with AISLE_STORE=server they all use the Qdrant server instead.

    python -m tools.cluster [--port 8080] [--workdir var/cluster] [--postgres URL] [--redis URL]

writes the configuration files into the work folder, creates the databases when missing and runs
supervisord in the foreground (Ctrl-C stops everything). The same function starts the cluster of
`make cluster-test` on free ports.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tools.stack import ONNX, PYTHON, RASA_BIN, RASA_MODEL, ROOT, STORE, base_env, free_port

POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"  # this machine's, trust auth
REDIS_URL = "redis://127.0.0.1:6379/2"  # events and limits; Rasa's locks in the next database
REPLICAS = 2


@dataclass
class Cluster:
    """Where each part of a cluster listens, and its shared settings."""

    workdir: Path
    port: int  # the load balancer in front of the gateways: the cluster's address
    actions_port: int  # the load balancer in front of the action servers
    gateway_ports: list[int]
    rasa_ports: list[int]
    action_ports: list[int]
    databases: dict[str, str]  # gateway, shop, rasa → SQLAlchemy URL
    redis_url: str
    token: str
    link_secret: str
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def gateway_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.gateway_ports]

    @property
    def config(self) -> Path:
        return self.workdir / "supervisord.conf"

    def ctl(self, *args: str) -> str:
        done = subprocess.run([str(ROOT / ".venv/bin/supervisorctl"), "-c", str(self.config), *args],
                              capture_output=True, text=True, timeout=30, check=False)
        return done.stdout.strip()

    def pid(self, program: str) -> int:
        return int(self.ctl("pid", program) or 0)


def plan(workdir: Path, port: int | None = None, postgres_url: str = POSTGRES_URL,
         redis_url: str = REDIS_URL, suffix: str = "", **extra_env: str) -> Cluster:
    """Ports (free ones, unless ``port`` is given: then port+1… for the replicas, 5005/5055… for
    Rasa and the action servers) and database names (``aisle_cluster_<part><suffix>``)."""
    if port is None:
        gateway, rasa, actions = ([free_port() for _ in range(REPLICAS)] for _ in range(3))
        port, actions_port = free_port(), free_port()
    else:
        gateway = [port + 1 + i for i in range(REPLICAS)]
        rasa = [5005 + i for i in range(REPLICAS)]
        actions_port, actions = 5055, [5056 + i for i in range(REPLICAS)]
    base = make_url(postgres_url)
    databases = {part: base.set(database=f"aisle_cluster_{part}{suffix}")
                 .render_as_string(hide_password=False) for part in ("gateway", "shop", "rasa")}
    workdir.mkdir(parents=True, exist_ok=True)
    secret_file = workdir / "secrets"
    if not secret_file.exists():
        secret_file.write_text(f"{secrets.token_urlsafe(24)}\n{secrets.token_urlsafe(32)}\n")
    token, link_secret = secret_file.read_text().split()
    return Cluster(workdir, port, actions_port, gateway, rasa, actions, databases, redis_url,
                   token, link_secret, dict(extra_env))


def prepare_databases(cluster: Cluster, fresh: bool = False) -> None:
    """Each part's PostgreSQL database, created when missing (``fresh``: dropped first); the
    gateway's and the shop's tables created and the demo shop seeded here, once, so that the
    replicas starting side by side do not race to do it."""
    first = make_url(next(iter(cluster.databases.values())))
    admin = sa.create_engine(first.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for url in cluster.databases.values():
                name = make_url(url).database
                if fresh:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                      {"n": name}).first()
                if not exists:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    from common.settings import get_settings
    from shop.sql.service import ShopData

    subprocess.run([str(PYTHON), "-m", "bot", "init-db", "--db-url", cluster.databases["gateway"]],
                   cwd=ROOT, env=base_env(), check=True, timeout=120)
    shop = ShopData(cluster.databases["shop"])
    shop.create_schema()
    shop.seed(get_settings().shop_seed_dir)
    shop.engine.dispose()


def _haproxy_config(cluster: Cluster) -> str:
    def servers(name: str, ports: list[int]) -> str:
        return "\n".join(f"    server {name}{i + 1} 127.0.0.1:{p} check inter 1s fall 2 rise 1"
                         for i, p in enumerate(ports))

    # retries only where the connection failed (HAProxy's default retry-on): a request that
    # reached a replica is never sent twice; websockets stay open through `timeout tunnel`
    return f"""global
    log stderr format short local0 notice

defaults
    mode http
    log global
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    retries 2
    option redispatch

frontend gateways
    bind 127.0.0.1:{cluster.port}
    option forwardfor
    default_backend gateways

backend gateways
    balance roundrobin
    option httpchk GET /health
{servers("gateway", cluster.gateway_ports)}

frontend actions
    bind 127.0.0.1:{cluster.actions_port}
    default_backend actions

backend actions
    balance roundrobin
    option httpchk GET /health
{servers("actions", cluster.action_ports)}
"""


def _program(name: str, command: str, env: dict[str, str], startsecs: int) -> str:
    # supervisord reads %(name)s in values: a literal % is written %%
    environment = ",".join(f'{k}="{v.replace("%", "%%")}"' for k, v in sorted(env.items()))
    return f"""
[program:{name}]
command={command}
directory={ROOT}
environment={environment}
startsecs={startsecs}
startretries=100
stopasgroup=true
killasgroup=true
stopwaitsecs=20
redirect_stderr=true
stdout_logfile={cluster_log(name)}
"""


def cluster_log(name: str) -> str:
    return f"%(here)s/log/{name}.log"


def _app_env(cluster: Cluster) -> dict[str, str]:
    """What the gateways and the action servers share."""
    return {"AISLE_SHOP_DB_URL": cluster.databases["shop"], "AISLE_LINK_SECRET": cluster.link_secret,
            **cluster.extra_env}


def _rasa_env(cluster: Cluster) -> dict[str, str]:
    """What deploy/endpoints.production.yml reads: the tracker store, the lock store, actions."""
    pg = make_url(cluster.databases["rasa"])
    redis = make_url(cluster.redis_url)
    return {
        "AISLE_ACTIONS_URL": f"http://127.0.0.1:{cluster.actions_port}",
        "POSTGRES_HOST": pg.host or "127.0.0.1", "POSTGRES_PORT": str(pg.port or 5432),
        "POSTGRES_DB": pg.database or "", "POSTGRES_USER": pg.username or "postgres",
        "POSTGRES_PASSWORD": pg.password or "",
        "REDIS_HOST": redis.host or "127.0.0.1", "REDIS_PORT": str(redis.port or 6379),
        "REDIS_PASSWORD": redis.password or "",
        "REDIS_LOCK_DB": str(int(redis.database or 0) + 1),
    }


def _action_folder(cluster: Cluster, replica: int) -> Path:
    return cluster.workdir / f"actions-{replica}"


def programs(cluster: Cluster) -> dict[str, tuple[str, dict[str, str], int]]:
    """Each program of the cluster: its command, its environment and supervisord's startsecs."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    app, rasa_env = _app_env(cluster), _rasa_env(cluster)
    rasa_urls = ",".join(f"http://127.0.0.1:{p}" for p in cluster.rasa_ports)
    found: dict[str, tuple[str, dict[str, str], int]] = {
        "balancer": (f"{haproxy} -W -db -f {cluster.workdir / 'haproxy.cfg'}", {}, 2)}
    for i, port in enumerate(cluster.rasa_ports, 1):
        found[f"rasa-{i}"] = (
            f"{RASA_BIN} run --enable-api --auth-token={cluster.token} -i 127.0.0.1 -p {port} "
            f"-m {RASA_MODEL} --endpoints {ROOT / 'deploy/endpoints.production.yml'} "
            f"--credentials {ROOT / 'credentials.yml'}", rasa_env, 20)
    for i, port in enumerate(cluster.action_ports, 1):
        folder = _action_folder(cluster, i)  # its own copy of the Edge store (write_configs)
        found[f"actions-{i}"] = (f"{PYTHON} -m actions --port {port}", {
            **app, "AISLE_STORE_PATH": str(folder / "store"), "AISLE_VAR_DIR": str(folder)}, 5)
    for i, port in enumerate(cluster.gateway_ports, 1):
        found[f"gateway-{i}"] = (f"{PYTHON} -m bot serve", {
            **app, "AISLE_GATEWAY_HOST": "127.0.0.1", "AISLE_GATEWAY_PORT": str(port),
            "AISLE_GATEWAY_DB_URL": cluster.databases["gateway"], "AISLE_REDIS_URL": cluster.redis_url,
            "AISLE_RASA_URL": rasa_urls, "AISLE_RASA_TOKEN": cluster.token,
            "AISLE_TRUST_PROXY": "true",  # behind HAProxy: the client is X-Forwarded-For
            "AISLE_ACTIONS_URL": rasa_env["AISLE_ACTIONS_URL"],  # its health probe
            "AISLE_VAR_DIR": str(cluster.workdir)}, 3)
    return found


def _copy_stores(cluster: Cluster) -> None:
    """Each action server's folder: a fresh copy of the served Edge store, the ONNX records."""
    for i in range(1, len(cluster.action_ports) + 1):
        folder = _action_folder(cluster, i)
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / "store").exists():
            shutil.rmtree(folder / "store")
        shutil.copytree(STORE, folder / "store")
        if ONNX.is_dir() and not (folder / "onnx").exists():
            (folder / "onnx").symlink_to(ONNX, target_is_directory=True)


def write_configs(cluster: Cluster) -> Path:
    """HAProxy's and supervisord's configuration in the work folder, the action servers' store
    copies; returns supervisord's configuration."""
    for needed in (RASA_BIN, PYTHON, RASA_MODEL, STORE):
        if not needed.exists():
            raise RuntimeError(f"{needed} is missing: run `make build` first")
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        raise RuntimeError("haproxy is missing: `make setup` installs Debian's package")
    (cluster.workdir / "log").mkdir(parents=True, exist_ok=True)
    (cluster.workdir / "haproxy.cfg").write_text(_haproxy_config(cluster), encoding="utf-8")
    _copy_stores(cluster)
    sections = [_program(name, command, env, startsecs)
                for name, (command, env, startsecs) in programs(cluster).items()]
    config = f"""; written by tools/cluster.py: the processes of `make cluster`
[supervisord]
nodaemon=true
directory={ROOT}
logfile=%(here)s/log/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s/log
silent=true

[unix_http_server]
file=%(here)s/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/supervisor.sock
""" + "".join(sections)
    cluster.config.write_text(config, encoding="utf-8")
    return cluster.config


def _health(url: str) -> dict:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=3) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return {}


def wait_ready(cluster: Cluster, timeout: float = 420.0) -> None:
    """Until every gateway reports every part up, each Rasa replica too, and warmed up; else a
    RuntimeError with the tail of every program's log."""
    deadline = time.monotonic() + timeout
    states: list[dict] = []
    while time.monotonic() < deadline:
        states = [_health(url) for url in cluster.gateway_urls]
        if all(s.get("status") == "ok" and s.get("warmed_up")
               and all(r["ok"] for r in s["rasa"].get("replicas", {}).values()) for s in states):
            return
        time.sleep(1)
    logs = "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-1500:]
                     for p in sorted((cluster.workdir / "log").glob("*.log")))
    raise RuntimeError(f"cluster not ready within {timeout:.0f}s: {states}\n{logs}")


def supervisord(cluster: Cluster) -> subprocess.Popen:
    """supervisord with the cluster's programs, in the foreground of a child process."""
    log = (cluster.workdir / "log" / "supervisord.out").open("ab")
    return subprocess.Popen([str(ROOT / ".venv/bin/supervisord"), "-c", str(cluster.config)],
                            cwd=ROOT, env=base_env(), stdout=log, stderr=subprocess.STDOUT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080, help="the load balancer's port")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var/cluster")
    parser.add_argument("--postgres", default=POSTGRES_URL,
                        help="a PostgreSQL server (SQLAlchemy URL); its aisle_cluster_* databases")
    parser.add_argument("--redis", default=REDIS_URL,
                        help="a Redis database for events and limits; Rasa's locks in the next one")
    args = parser.parse_args(argv)
    cluster = plan(args.workdir.resolve(), args.port, postgres_url=args.postgres, redis_url=args.redis)
    prepare_databases(cluster)
    write_configs(cluster)
    print(f"Aisle cluster: open {cluster.url}/ (agent desk: /desk); gateways "
          f"{', '.join(cluster.gateway_urls)}; logs in {cluster.workdir / 'log'}. Ctrl-C stops it.",
          flush=True)
    os.execv(str(ROOT / ".venv/bin/supervisord"),
             [str(ROOT / ".venv/bin/supervisord"), "-c", str(cluster.config)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
