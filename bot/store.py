"""The gateway's own storage (SQLAlchemy 2, sync): conversations, messages, feedback, agents.

SQLite file by default, PostgreSQL by URL. The methods are blocking; the aiohttp handlers call them
through ``asyncio.to_thread``. Times are stored as UTC epoch seconds and returned as ISO strings.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError

from bot import security

STATUSES = ("bot", "waiting", "agent", "closed")
FEEDBACK_TYPES = ("click", "add_to_cart", "like", "dislike", "rating")

metadata = MetaData()

conversations = Table(
    "gw_conversations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False, default="bot"),
    Column("assigned_agent", String(64), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("waiting_since", Float, nullable=True),
)

messages = Table(
    "gw_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(32), ForeignKey("gw_conversations.id"), nullable=False),
    Column("sender", String(16), nullable=False),  # shopper | bot | agent | system
    Column("body", JSON, nullable=False),  # a BotMessage (shopper text: {"type":"text","text"})
    Column("reply_to", Integer, nullable=True),  # the shopper message a bot message answers
    Column("delivered", Boolean, nullable=False, default=True),  # False: Rasa never saw it
    Column("agent", String(64), nullable=True),
    Column("created_at", Float, nullable=False),
    Index("ix_gw_messages_conversation", "conversation_id", "id"),
)

feedback = Table(
    "gw_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(32), ForeignKey("gw_conversations.id"), nullable=False),
    Column("type", String(16), nullable=False),
    Column("product_id", String(128), nullable=True),
    Column("value", JSON, nullable=True),
    Column("query", Text, nullable=True),  # the shopper text the products were shown for
    Column("shown", JSON, nullable=True),  # product ids shown in that reply, in rank order
    Column("position", Integer, nullable=True),  # 0-based rank of product_id in ``shown``
    Column("products_message_id", Integer, nullable=True),
    Column("created_at", Float, nullable=False),
    Index("ix_gw_feedback_conversation", "conversation_id"),
)

agents = Table(
    "gw_agents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
)

agent_sessions = Table(
    "gw_agent_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("agent_id", Integer, ForeignKey("gw_agents.id"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class AgentExists(ValueError):
    pass


class GatewayStore:
    """All SQL of the gateway. Blocking; call through ``asyncio.to_thread`` from handlers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    # conversations ------------------------------------------------------------------------
    def create_conversation(self) -> tuple[str, str]:
        conv_id, token = secrets.token_hex(16), security.new_token()
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                insert(conversations).values(
                    id=conv_id,
                    token_hash=security.token_hash(token),
                    status="bot",
                    created_at=now,
                    updated_at=now,
                )
            )
        return conv_id, token

    def get_conversation(self, conv_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(conversations).where(conversations.c.id == conv_id)).first()
        return dict(row._mapping) if row else None

    def _transition(self, conv_id: str, from_statuses: tuple[str, ...], agent: str | None = None,
                    require_agent: str | None = None, **values: Any) -> bool:
        """Atomic status change: succeeds only if the row is still in one of ``from_statuses``."""
        stmt = update(conversations).where(
            conversations.c.id == conv_id, conversations.c.status.in_(from_statuses)
        )
        if require_agent is not None:
            stmt = stmt.where(conversations.c.assigned_agent == require_agent)
        values.setdefault("updated_at", time.time())
        with self.engine.begin() as conn:
            return conn.execute(stmt.values(**values)).rowcount == 1

    def mark_waiting(self, conv_id: str) -> bool:
        return self._transition(conv_id, ("bot", "closed"), status="waiting",
                                waiting_since=time.time(), assigned_agent=None)

    def claim(self, conv_id: str, agent: str) -> bool:
        """Only one agent wins: UPDATE … WHERE status='waiting'."""
        return self._transition(conv_id, ("waiting",), status="agent", assigned_agent=agent)

    def hand_back(self, conv_id: str, agent: str) -> bool:
        return self._transition(conv_id, ("agent",), require_agent=agent, status="bot",
                                assigned_agent=None, waiting_since=None)

    def close_conversation(self, conv_id: str, agent: str) -> bool:
        """Close a conversation the agent holds, or one still waiting (nobody holds it)."""
        if self._transition(conv_id, ("agent",), require_agent=agent, status="closed",
                            waiting_since=None):
            return True
        return self._transition(conv_id, ("waiting",), status="closed", assigned_agent=agent,
                                waiting_since=None)

    def reopen(self, conv_id: str) -> bool:
        """A shopper writing into a closed conversation talks to the bot again."""
        return self._transition(conv_id, ("closed",), status="bot", assigned_agent=None)

    def queue(self, agent: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Conversations waiting for a human, and those held by ``agent``."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(conversations)
                .where(conversations.c.status.in_(("waiting", "agent")))
                .order_by(conversations.c.waiting_since, conversations.c.updated_at)
            ).all()
            result: dict[str, list[dict[str, Any]]] = {"waiting": [], "mine": [], "others": []}
            for row in rows:
                last = conn.execute(
                    select(messages.c.body, messages.c.created_at)
                    .where(messages.c.conversation_id == row.id, messages.c.sender == "shopper")
                    .order_by(messages.c.id.desc())
                    .limit(1)
                ).first()
                item = {
                    "conversation_id": row.id,
                    "status": row.status,
                    "assigned_agent": row.assigned_agent,
                    "waiting_since": iso(row.waiting_since),
                    "updated_at": iso(row.updated_at),
                    "last_shopper_text": _display_text(last.body) if last else "",
                }
                if row.status == "waiting":
                    result["waiting"].append(item)
                elif agent is not None and row.assigned_agent == agent:
                    result["mine"].append(item)
                else:
                    result["others"].append(item)
        return result

    # messages -----------------------------------------------------------------------------
    def add_message(self, conv_id: str, sender: str, body: dict[str, Any], *,
                    reply_to: int | None = None, delivered: bool = True,
                    agent: str | None = None) -> dict[str, Any]:
        now = time.time()
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(messages).values(
                    conversation_id=conv_id, sender=sender, body=body, reply_to=reply_to,
                    delivered=delivered, agent=agent, created_at=now,
                )
            )
            conn.execute(update(conversations).where(conversations.c.id == conv_id)
                         .values(updated_at=now))
            message_id = result.inserted_primary_key[0]
        return _public_message(message_id, sender, body, now, agent)

    def add_messages(self, conv_id: str, sender: str, bodies: list[dict[str, Any]], *,
                     reply_to: int | None = None) -> list[dict[str, Any]]:
        return [self.add_message(conv_id, sender, b, reply_to=reply_to) for b in bodies]

    def set_delivered(self, message_id: int, delivered: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(messages).where(messages.c.id == message_id)
                         .values(delivered=delivered))

    def history(self, conv_id: str, limit: int = 500) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(messages)
                .where(messages.c.conversation_id == conv_id)
                .order_by(messages.c.id.desc())
                .limit(limit)
            ).all()
        return [
            _public_message(r.id, r.sender, r.body, r.created_at, r.agent) | {"delivered": r.delivered}
            for r in reversed(rows)
        ]

    def products_shown(self, conv_id: str) -> list[dict[str, Any]]:
        """Every product list the bot showed, with the shopper text it answered."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(messages)
                .where(messages.c.conversation_id == conv_id, messages.c.sender == "bot")
                .order_by(messages.c.id)
            ).all()
            shown = []
            for row in rows:
                if not isinstance(row.body, dict) or row.body.get("type") != "products":
                    continue
                shown.append({
                    "message_id": row.id,
                    "time": iso(row.created_at),
                    "query": self._query_text(conn, row.reply_to),
                    "items": row.body.get("items", []),
                    "relaxed": row.body.get("relaxed", []),
                })
        return shown

    @staticmethod
    def _query_text(conn: Any, message_id: int | None) -> str | None:
        if message_id is None:
            return None
        row = conn.execute(select(messages.c.body).where(messages.c.id == message_id)).first()
        return _display_text(row.body) if row else None

    # feedback -----------------------------------------------------------------------------
    def add_feedback(self, conv_id: str, kind: str, product_id: str | None,
                     value: Any = None) -> dict[str, Any]:
        """Store a feedback event with the query and the products shown when it happened."""
        context: dict[str, Any] = {"query": None, "shown": None, "position": None,
                                   "products_message_id": None}
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(messages.c.id, messages.c.body, messages.c.reply_to)
                .where(messages.c.conversation_id == conv_id, messages.c.sender == "bot")
                .order_by(messages.c.id.desc())
                .limit(200)
            ).all()
            for row in rows:
                body = row.body if isinstance(row.body, dict) else {}
                if body.get("type") != "products":
                    continue
                ids = [str(item.get("id")) for item in body.get("items", [])]
                if product_id is None or product_id in ids:
                    context = {
                        "query": self._query_text(conn, row.reply_to),
                        "shown": ids,
                        "position": ids.index(product_id) if product_id in ids else None,
                        "products_message_id": row.id,
                    }
                    break
            now = time.time()
            result = conn.execute(insert(feedback).values(
                conversation_id=conv_id, type=kind, product_id=product_id, value=value,
                created_at=now, **context,
            ))
            event_id = result.inserted_primary_key[0]
        return {"id": event_id, "type": kind, "product_id": product_id, "value": value,
                "time": iso(now), **context}

    def iter_feedback(self) -> Iterator[dict[str, Any]]:
        """All feedback events, oldest first, for a retraining pipeline."""
        with self.engine.connect() as conn:
            for row in conn.execute(select(feedback).order_by(feedback.c.id)):
                data = dict(row._mapping)
                data["time"] = iso(data.pop("created_at"))
                yield data

    def iter_transcripts(self) -> Iterator[dict[str, Any]]:
        with self.engine.connect() as conn:
            conv_rows = conn.execute(select(conversations).order_by(conversations.c.created_at)).all()
        for conv in conv_rows:
            yield {"conversation_id": conv.id, "status": conv.status,
                   "created_at": iso(conv.created_at), "messages": self.history(conv.id, 100_000)}

    # agents -------------------------------------------------------------------------------
    def create_agent(self, name: str, password: str, *, replace: bool = False) -> None:
        hashed = security.hash_password(password)
        with self.engine.begin() as conn:
            exists = conn.execute(select(agents.c.id).where(agents.c.name == name)).first()
            if exists and not replace:
                raise AgentExists(f"agent {name!r} already exists (use --replace to set a new password)")
            if exists:
                conn.execute(update(agents).where(agents.c.name == name).values(password_hash=hashed))
                return
            try:
                conn.execute(insert(agents).values(name=name, password_hash=hashed, created_at=time.time()))
            except IntegrityError as exc:
                raise AgentExists(f"agent {name!r} already exists") from exc

    def login(self, name: str, password: str, hours: float) -> str | None:
        """Check the password; return a new session token, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(agents).where(agents.c.name == name)).first()
        if row is None:
            security.hash_password(password)  # same work either way: no user enumeration by timing
            return None
        if not security.verify_password(password, row.password_hash):
            return None
        token = security.new_token()
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(insert(agent_sessions).values(
                token_hash=security.token_hash(token), agent_id=row.id,
                created_at=now, expires_at=now + hours * 3600,
            ))
        return token

    def session_agent(self, token: str | None) -> str | None:
        if not token:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(agents.c.name)
                .join(agent_sessions, agent_sessions.c.agent_id == agents.c.id)
                .where(agent_sessions.c.token_hash == security.token_hash(token),
                       agent_sessions.c.expires_at > time.time())
            ).first()
        return row.name if row else None

    def logout(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(agent_sessions.delete().where(
                agent_sessions.c.token_hash == security.token_hash(token)))


def _display_text(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    return str(body.get("display") or body.get("text") or "")


def _public_message(message_id: int, sender: str, body: dict[str, Any], created_at: float,
                    agent: str | None) -> dict[str, Any]:
    """A stored message as the API returns it: the BotMessage plus id, sender and time."""
    data = dict(body) if isinstance(body, dict) else {"type": "text", "text": str(body)}
    data.update(id=message_id, sender=sender, time=iso(created_at))
    if agent:
        data["agent"] = agent
    return data
