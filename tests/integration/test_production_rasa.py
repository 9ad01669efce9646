"""Rasa in its production configuration: SQL tracker store on PostgreSQL, Redis lock store."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tools.stack import ROOT, RasaStack, start_rasa_stack

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.redis]
DATABASE = "aisle_rasa_tracker_test"


def post_json(url: str, body: dict) -> list | dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def redis_command_calls(redis_url: str, command: str) -> int:
    import redis

    info = redis.Redis.from_url(redis_url).info("commandstats")
    return int(info.get(f"cmdstat_{command}", {}).get("calls", 0))


@pytest.fixture(scope="module")
def tracker_db(postgres_url: str) -> Iterator[sa.Engine]:
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
    engine = sa.create_engine(make_url(postgres_url).set(database=DATABASE))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def production_rasa(
    tracker_db: sa.Engine, postgres_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RasaStack]:
    pg, rd = make_url(postgres_url), make_url(redis_url)
    stack = start_rasa_stack(
        tmp_path_factory.mktemp("rasa-production"),
        endpoints=ROOT / "deploy/endpoints.production.yml",
        POSTGRES_HOST=pg.host or "127.0.0.1",
        POSTGRES_PORT=str(pg.port or 5432),
        POSTGRES_DB=DATABASE,
        POSTGRES_USER=pg.username or "postgres",
        POSTGRES_PASSWORD=pg.password or "",
        REDIS_HOST=rd.host or "127.0.0.1",
        REDIS_PORT=str(rd.port or 6379),
        REDIS_PASSWORD=rd.password or "",
        REDIS_LOCK_DB="1",
    )
    yield stack
    stack.stop()


def test_conversation_is_stored_in_postgres_and_locked_in_redis(
    production_rasa: RasaStack, tracker_db: sa.Engine, redis_url: str
) -> None:
    sender = f"prod-{uuid.uuid4().hex[:8]}"
    sets_before = redis_command_calls(redis_url, "set")
    replies = post_json(
        f"{production_rasa.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": "hello"}
    )
    assert isinstance(replies, list) and replies, "the bot answers a greeting"
    with tracker_db.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT type_name FROM events WHERE sender_id = :s"), {"s": sender}
        ).scalars().all()
    assert "user" in rows and "bot" in rows
    assert redis_command_calls(redis_url, "set") > sets_before, "Rasa took its lock in Redis"


def test_tracker_survives_in_sql(production_rasa: RasaStack) -> None:
    sender = f"prod-{uuid.uuid4().hex[:8]}"
    post_json(f"{production_rasa.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": "hi"})
    url = f"{production_rasa.rasa_url}/conversations/{sender}/tracker?token={production_rasa.token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        tracker = json.loads(response.read())
    texts = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert texts == ["hi"]
