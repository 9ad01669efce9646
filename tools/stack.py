"""Start the real processes of Aisle (Rasa, action server, gateway) on free ports for tests."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RASA_BIN = ROOT / ".venv-rasa/bin/rasa"
PYTHON = ROOT / ".venv/bin/python"
RASA_MODEL = ROOT / "models/aisle.tar.gz"
STORE = ROOT / "var/store"
ONNX = ROOT / "var/onnx"  # ONNX exports and their quality records (`make build` runs check-onnx)
CATALOG = ROOT / "data/catalog/products.jsonl"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        SANIC_HOST="127.0.0.1",
    )
    env.update(extra)
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)


def start(name: str, cmd: list[str], env: dict[str, str], log_dir: Path) -> Process:
    log = log_dir / f"{name}.log"
    handle = log.open("wb")
    popen = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    return Process(name, popen, log)


def wait_http(proc: Process, url: str, timeout: float = 180.0) -> None:
    """Poll ``url`` until it answers 200; fail with the process log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{proc.name} did not answer {url} within {timeout:.0f}s:\n{proc.tail()}")


@dataclass
class RasaStack:
    """A real action server and a real Rasa server, with their own state in ``workdir``."""

    rasa_url: str
    actions_url: str
    token: str
    workdir: Path
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()


def private_state(workdir: Path) -> dict[str, str]:
    """Environment giving the processes their own copy of the store and fresh databases."""
    store = workdir / "store"
    if not store.exists():
        shutil.copytree(STORE, store)
    if ONNX.is_dir() and not (workdir / "onnx").exists():  # the encoder backend `make run` would use
        (workdir / "onnx").symlink_to(ONNX, target_is_directory=True)
    return {
        "AISLE_STORE_PATH": str(store),
        "AISLE_SHOP_DB_URL": f"sqlite:///{workdir / 'shop.db'}",
        "AISLE_GATEWAY_DB_URL": f"sqlite:///{workdir / 'gateway.db'}",
        "AISLE_VAR_DIR": str(workdir),
    }


def private_endpoints(workdir: Path) -> Path:
    """``endpoints.yml`` with the tracker database in ``workdir`` (each stack its own trackers)."""
    config = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    config["tracker_store"]["db"] = str(workdir / "rasa-trackers.db")
    path = workdir / "endpoints.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def start_rasa_stack(workdir: Path, endpoints: Path | None = None, timeout: float = 300.0,
                     **extra_env: str) -> RasaStack:
    """Start the action server and Rasa (REST channel + HTTP API with a token) on free ports;
    ``timeout``: seconds each may take to answer (loading the Rasa model on a busy machine)."""
    for needed in (RASA_BIN, PYTHON, RASA_MODEL, STORE):
        if not needed.exists():
            raise RuntimeError(f"{needed} is missing: run `make build` first")
    workdir.mkdir(parents=True, exist_ok=True)
    rasa_port, actions_port = free_port(), free_port()
    token = secrets.token_urlsafe(16)
    env = base_env(
        AISLE_ACTIONS_PORT=str(actions_port),
        AISLE_ACTIONS_URL=f"http://127.0.0.1:{actions_port}",
        **private_state(workdir),
        **extra_env,
    )
    stack = RasaStack(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        actions_url=f"http://127.0.0.1:{actions_port}",
        token=token,
        workdir=workdir,
        env=env,
    )
    try:
        actions = start(
            "actions",
            [str(PYTHON), "-m", "actions", "--port", str(actions_port)],
            env,
            workdir,
        )
        stack.processes.append(actions)
        rasa = start(
            "rasa",
            [
                str(RASA_BIN), "run", "--enable-api", f"--auth-token={token}",  # "=" form: a token may start with "-"
                "-i", "127.0.0.1", "-p", str(rasa_port), "-m", str(RASA_MODEL),
                "--endpoints", str(endpoints or private_endpoints(workdir)),
                "--credentials", str(ROOT / "credentials.yml"),
            ],
            env,
            workdir,
        )
        stack.processes.append(rasa)
        wait_http(actions, f"{stack.actions_url}/health", timeout)
        wait_http(rasa, f"{stack.rasa_url}/status?token={token}", timeout)
    except BaseException:
        stack.stop()
        raise
    return stack


@dataclass
class Gateway:
    url: str
    process: Process

    def stop(self) -> None:
        self.process.stop()


def start_gateway(stack: RasaStack, **extra_env: str) -> Gateway:
    """Start the bot/ gateway in front of ``stack`` on a free port."""
    port = free_port()
    env = dict(stack.env)
    env.update(
        AISLE_GATEWAY_HOST="127.0.0.1",
        AISLE_GATEWAY_PORT=str(port),
        AISLE_RASA_URL=stack.rasa_url,
        AISLE_RASA_TOKEN=stack.token,
        AISLE_ACTIONS_URL=stack.actions_url,
        **extra_env,
    )
    proc = start(f"gateway-{port}", [str(PYTHON), "-m", "bot", "serve"], env, stack.workdir)
    gateway = Gateway(f"http://127.0.0.1:{port}", proc)
    try:
        wait_http(proc, f"{gateway.url}/health", timeout=60)
    except BaseException:
        gateway.stop()
        raise
    return gateway


# ---------------------------------------------------------------- the supervised stack of `make run`
SUPERVISORD_CONF = ROOT / "deploy/supervisord.conf"


@dataclass
class SupervisedStack:
    """``deploy/supervisord.conf``'s three programs under a real supervisord, with private state
    (store copy, databases, tracker database, sockets and logs in ``workdir``)."""

    url: str
    rasa_url: str
    actions_url: str
    token: str
    workdir: Path
    env: dict[str, str]
    config: Path
    supervisord: Process | None = None

    def start(self) -> None:
        self.supervisord = start("supervisord", [str(ROOT / ".venv/bin/supervisord"), "-c", str(self.config)],
                                 self.env, self.workdir)

    def ctl(self, *args: str) -> str:
        done = subprocess.run([str(ROOT / ".venv/bin/supervisorctl"), "-c", str(self.config), *args],
                              capture_output=True, text=True, timeout=30, env=self.env, check=False)
        return done.stdout.strip()

    def pid(self, program: str) -> int:
        return int(self.ctl("pid", program) or 0)

    def stop(self) -> None:
        if self.supervisord is not None:
            self.supervisord.stop()  # SIGTERM: supervisord stops its programs, then exits


def supervised_config(workdir: Path) -> Path:
    """The real supervisord.conf with its state paths moved into ``workdir`` and Rasa pointed at
    a private endpoints file (its own tracker database)."""
    text = SUPERVISORD_CONF.read_text(encoding="utf-8").replace("%(here)s/..", str(ROOT))
    for name in ("log/supervisord.log", "supervisord.pid", "log", "supervisor.sock"):
        text = text.replace(f"{ROOT}/var/{name}", str(workdir / name))
    text = text.replace("--endpoints endpoints.yml", f"--endpoints {private_endpoints(workdir)}")
    (workdir / "log").mkdir(parents=True, exist_ok=True)
    path = workdir / "supervisord.conf"
    path.write_text(text, encoding="utf-8")
    return path


def start_supervised_stack(workdir: Path, timeout: float = 240.0, **extra_env: str) -> SupervisedStack:
    """Start ``make run``'s processes under supervisord on free ports; wait until the gateway
    reports Rasa and the action server up and the models warmed up."""
    for needed in (RASA_BIN, PYTHON, RASA_MODEL, STORE):
        if not needed.exists():
            raise RuntimeError(f"{needed} is missing: run `make build` first")
    workdir.mkdir(parents=True, exist_ok=True)
    rasa_port, actions_port, gateway_port = free_port(), free_port(), free_port()
    token = secrets.token_urlsafe(16)
    urls = {"rasa": f"http://127.0.0.1:{rasa_port}", "actions": f"http://127.0.0.1:{actions_port}"}
    env = base_env(
        AISLE_RASA_PORT=str(rasa_port), AISLE_ACTIONS_PORT=str(actions_port), AISLE_RASA_TOKEN=token,
        AISLE_RASA_URL=urls["rasa"], AISLE_ACTIONS_URL=urls["actions"],
        AISLE_GATEWAY_HOST="127.0.0.1", AISLE_GATEWAY_PORT=str(gateway_port),
        **private_state(workdir), **extra_env,
    )
    stack = SupervisedStack(f"http://127.0.0.1:{gateway_port}", urls["rasa"], urls["actions"], token,
                            workdir, env, supervised_config(workdir))
    stack.start()
    try:
        wait_ready(stack, timeout)
    except BaseException:
        stack.stop()
        raise
    return stack


def wait_ready(stack: SupervisedStack, timeout: float) -> float:
    """Seconds until the gateway's /health says every part is up and warmed up."""
    started = time.monotonic()
    deadline = started + timeout
    health: dict = {}
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{stack.url}/health", timeout=2) as response:
                health = json.loads(response.read())
            if health.get("status") == "ok" and health.get("warmed_up"):
                return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"stack not ready within {timeout:.0f}s: {health}\n"
                       + (stack.supervisord.tail() if stack.supervisord else ""))
