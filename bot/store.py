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
    exists,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError

from bot import security

STATUSES = ("bot", "waiting", "agent", "closed")
MAX_SEARCH_CHARS = 100
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
    Column("display_name", String(64), nullable=True),  # what shoppers see; never the login
)
# columns added after a table's first release: (table, column, SQL type) for older databases
ADDED_COLUMNS = [("gw_agents", "display_name", "VARCHAR(64)")]

# one row per handoff: why the bot handed over, who took it, how it ended (the resolved list)
handoffs = Table(
    "gw_handoffs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(32), ForeignKey("gw_conversations.id"), nullable=False),
    Column("reason", String(200), nullable=True),
    Column("context", JSON, nullable=True),  # {"order", "customer", "email"} when the bot knew them
    Column("requested_at", Float, nullable=False),
    Column("claimed_at", Float, nullable=True),
    Column("agent", String(64), nullable=True),
    Column("ended_at", Float, nullable=True),
    Column("outcome", String(16), nullable=True),  # handed_back | closed
    Index("ix_gw_handoffs_conversation", "conversation_id", "id"),
    Index("ix_gw_handoffs_ended", "ended_at"),
)

# agents' internal notes on a conversation: shown on the desk, never to the shopper
notes = Table(
    "gw_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(32), ForeignKey("gw_conversations.id"), nullable=False),
    Column("agent", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_gw_notes_conversation", "conversation_id", "id"),
)

# how far each agent has read each conversation: the desk's unread counts
desk_reads = Table(
    "gw_desk_reads",
    metadata,
    Column("agent", String(64), primary_key=True),
    Column("conversation_id", String(32), ForeignKey("gw_conversations.id"), primary_key=True),
    Column("last_message_id", Integer, nullable=False),  # the newest message the agent has seen
    Column("read_at", Float, nullable=False),
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
            # WAL's recommended setting: a commit survives a crash of the process (not of the
            # machine's power); it spares an fsync per commit, ~1 ms of every turn
            cursor.execute("PRAGMA synchronous=NORMAL")
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
        existing = inspect(self.engine)
        with self.engine.begin() as conn:
            for table, column, sql_type in ADDED_COLUMNS:
                if column not in {c["name"] for c in existing.get_columns(table)}:
                    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))

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
        now = time.time()
        if not self._transition(conv_id, ("bot", "closed"), status="waiting",
                                waiting_since=now, assigned_agent=None):
            return False
        with self.engine.begin() as conn:
            conn.execute(insert(handoffs).values(conversation_id=conv_id, requested_at=now))
        return True

    def claim(self, conv_id: str, agent: str) -> bool:
        """Only one agent wins: UPDATE … WHERE status='waiting'."""
        if not self._transition(conv_id, ("waiting",), status="agent", assigned_agent=agent):
            return False
        self._update_open_handoff(conv_id, claimed_at=time.time(), agent=agent)
        return True

    def hand_back(self, conv_id: str, agent: str) -> bool:
        if not self._transition(conv_id, ("agent",), require_agent=agent, status="bot",
                                assigned_agent=None, waiting_since=None):
            return False
        self._update_open_handoff(conv_id, ended_at=time.time(), outcome="handed_back")
        return True

    def close_conversation(self, conv_id: str, agent: str) -> bool:
        """Close a conversation the agent holds, or one still waiting (nobody holds it)."""
        if not (self._transition(conv_id, ("agent",), require_agent=agent, status="closed",
                                 waiting_since=None)
                or self._transition(conv_id, ("waiting",), status="closed", assigned_agent=agent,
                                    waiting_since=None)):
            return False
        self._update_open_handoff(conv_id, ended_at=time.time(), outcome="closed", agent=agent,
                                  keep_agent=True)
        return True

    def _update_open_handoff(self, conv_id: str, keep_agent: bool = False, **values: Any) -> None:
        """The newest handoff of the conversation that has not ended yet."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(handoffs.c.id, handoffs.c.agent)
                .where(handoffs.c.conversation_id == conv_id, handoffs.c.ended_at.is_(None))
                .order_by(handoffs.c.id.desc()).limit(1)
            ).first()
            if row is None:
                return
            if keep_agent and row.agent:
                values.pop("agent", None)
            conn.execute(update(handoffs).where(handoffs.c.id == row.id).values(**values))

    def set_handoff_context(self, conv_id: str, reason: str | None,
                            context: dict[str, Any] | None) -> None:
        """Why the bot handed over and what it knew (order, customer), for the queue."""
        self._update_open_handoff(conv_id, reason=reason, context=context or {})

    def reopen(self, conv_id: str) -> bool:
        """A shopper writing into a closed conversation talks to the bot again."""
        return self._transition(conv_id, ("closed",), status="bot", assigned_agent=None)

    def queue(self, agent: str | None = None, resolved_limit: int = 20, search: str | None = None
              ) -> dict[str, list[dict[str, Any]]]:
        """Conversations waiting for a human, those held by ``agent`` and by others, and the
        most recently resolved handoffs (handed back or closed), newest first, at most
        ``resolved_limit``; ``search`` keeps the resolved ones whose customer, e-mail, order or
        transcript contains it. Each item has ``unread``: the shopper messages ``agent`` has not
        seen (since they last opened it)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(conversations)
                .where(conversations.c.status.in_(("waiting", "agent")))
                .order_by(conversations.c.waiting_since, conversations.c.updated_at)
            ).all()
            result: dict[str, list[dict[str, Any]]] = {"waiting": [], "mine": [], "others": [],
                                                       "resolved": []}
            names = self._display_names(conn)
            for row in rows:
                item = {
                    "conversation_id": row.id,
                    "status": row.status,
                    "assigned_agent": row.assigned_agent,
                    "waiting_since": iso(row.waiting_since),
                    "updated_at": iso(row.updated_at),
                    **self._handoff_info(conn, row.id),
                    "last_shopper_text": self._last_shopper_text(conn, row.id),
                }
                if row.status == "waiting":
                    result["waiting"].append(item)
                elif agent is not None and row.assigned_agent == agent:
                    result["mine"].append(item)
                else:
                    result["others"].append(item)
            resolved = (
                select(handoffs, conversations.c.status)
                .join(conversations, conversations.c.id == handoffs.c.conversation_id)
                .where(handoffs.c.ended_at.is_not(None),
                       conversations.c.status.not_in(("waiting", "agent")))
            )
            if search and search.strip():
                resolved = resolved.where(_mentions(search.strip()[:MAX_SEARCH_CHARS]))
            ended = conn.execute(
                resolved.order_by(handoffs.c.ended_at.desc()).limit(resolved_limit * 3)
            ).all()
            seen: set[str] = set()
            for h in ended:
                if h.conversation_id in seen or len(seen) >= resolved_limit:
                    continue
                seen.add(h.conversation_id)
                result["resolved"].append({
                    "conversation_id": h.conversation_id,
                    "status": h.status,
                    "agent": h.agent,
                    "agent_display": names.get(h.agent or ""),
                    "outcome": h.outcome,
                    "ended_at": iso(h.ended_at),
                    "reason": h.reason,
                    "context": h.context or {},
                    "last_shopper_text": self._last_shopper_text(conn, h.conversation_id),
                })
            listed = [item for items in result.values() for item in items]
            unread = self._unread(conn, agent, {i["conversation_id"] for i in listed})
            for item in listed:
                item["unread"] = unread.get(item["conversation_id"], 0)
        return result

    @staticmethod
    def _unread(conn: Any, agent: str | None, conv_ids: set[str]) -> dict[str, int]:
        """conversation → shopper messages newer than the last one ``agent`` has seen."""
        if agent is None or not conv_ids:
            return {}
        seen = (select(desk_reads.c.last_message_id)
                .where(desk_reads.c.agent == agent,
                       desk_reads.c.conversation_id == messages.c.conversation_id)
                .scalar_subquery())
        rows = conn.execute(
            select(messages.c.conversation_id, func.count())
            .where(messages.c.conversation_id.in_(sorted(conv_ids)), messages.c.sender == "shopper",
                   messages.c.id > func.coalesce(seen, 0))
            .group_by(messages.c.conversation_id)
        ).all()
        return {conv_id: count for conv_id, count in rows}

    def mark_read(self, agent: str, conv_id: str, message_id: int | None = None) -> int:
        """The agent has seen the conversation up to ``message_id`` (default: its newest
        message); never moves back. Returns the id read up to."""
        with self.engine.connect() as conn:
            newest = conn.scalar(select(func.max(messages.c.id))
                                 .where(messages.c.conversation_id == conv_id)) or 0
        upto = newest if message_id is None else max(0, min(int(message_id), newest))
        key = (desk_reads.c.agent == agent, desk_reads.c.conversation_id == conv_id)
        forward = (update(desk_reads).where(*key, desk_reads.c.last_message_id < upto)
                   .values(last_message_id=upto, read_at=time.time()))
        try:
            with self.engine.begin() as conn:
                if conn.execute(select(desk_reads.c.agent).where(*key)).first() is None:
                    conn.execute(insert(desk_reads).values(agent=agent, conversation_id=conv_id,
                                                           last_message_id=upto, read_at=time.time()))
                else:
                    conn.execute(forward)
        except IntegrityError:  # another desk of this agent inserted it meanwhile
            with self.engine.begin() as conn:
                conn.execute(forward)
        return upto

    @staticmethod
    def _last_shopper_text(conn: Any, conv_id: str) -> str:
        last = conn.execute(
            select(messages.c.body)
            .where(messages.c.conversation_id == conv_id, messages.c.sender == "shopper")
            .order_by(messages.c.id.desc()).limit(1)
        ).first()
        return _display_text(last.body) if last else ""

    @staticmethod
    def _handoff_info(conn: Any, conv_id: str) -> dict[str, Any]:
        row = conn.execute(
            select(handoffs).where(handoffs.c.conversation_id == conv_id)
            .order_by(handoffs.c.id.desc()).limit(1)
        ).first()
        if row is None:
            return {"reason": None, "context": {}, "requested_at": None, "claimed_at": None}
        return {"reason": row.reason, "context": row.context or {},
                "requested_at": iso(row.requested_at), "claimed_at": iso(row.claimed_at)}

    def handoff(self, conv_id: str) -> dict[str, Any] | None:
        """The newest handoff of a conversation (reason, context, times), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(handoffs).where(handoffs.c.conversation_id == conv_id)
                .order_by(handoffs.c.id.desc()).limit(1)
            ).first()
        if row is None:
            return None
        return {"reason": row.reason, "context": row.context or {}, "agent": row.agent,
                "requested_at": iso(row.requested_at), "claimed_at": iso(row.claimed_at),
                "ended_at": iso(row.ended_at), "outcome": row.outcome}

    # notes (agents only) ------------------------------------------------------------------
    def add_note(self, conv_id: str, agent: str, note: str) -> dict[str, Any]:
        now = time.time()
        with self.engine.begin() as conn:
            result = conn.execute(insert(notes).values(conversation_id=conv_id, agent=agent,
                                                       text=note, created_at=now))
            note_id = result.inserted_primary_key[0]
        return {"id": note_id, "agent": agent, "text": note, "time": iso(now)}

    def notes(self, conv_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(notes).where(notes.c.conversation_id == conv_id)
                                .order_by(notes.c.id)).all()
        return [{"id": r.id, "agent": r.agent, "text": r.text, "time": iso(r.created_at)}
                for r in rows]

    # messages -----------------------------------------------------------------------------
    def add_message(self, conv_id: str, sender: str, body: dict[str, Any], *,
                    reply_to: int | None = None, delivered: bool = True,
                    agent: str | None = None) -> dict[str, Any]:
        with self.engine.begin() as conn:
            return self._insert_messages(conn, conv_id, sender, [body], reply_to=reply_to,
                                         delivered=delivered, agent=agent)[0]

    def record_reply(self, conv_id: str, shopper_message_id: int, bodies: list[dict[str, Any]]
                     ) -> list[dict[str, Any]]:
        """The bot's reply to a shopper's message, and that message marked delivered: one
        transaction (one commit per turn instead of one per message)."""
        with self.engine.begin() as conn:
            conn.execute(update(messages).where(messages.c.id == shopper_message_id)
                         .values(delivered=True))
            return self._insert_messages(conn, conv_id, "bot", bodies, reply_to=shopper_message_id)

    def _insert_messages(self, conn: Connection, conv_id: str, sender: str,
                         bodies: list[dict[str, Any]], *, reply_to: int | None = None,
                         delivered: bool = True, agent: str | None = None
                         ) -> list[dict[str, Any]]:
        now = time.time()
        ids = [conn.execute(insert(messages).values(
                   conversation_id=conv_id, sender=sender, body=body, reply_to=reply_to,
                   delivered=delivered, agent=agent, created_at=now)).inserted_primary_key[0]
               for body in bodies]
        conn.execute(update(conversations).where(conversations.c.id == conv_id)
                     .values(updated_at=now))
        display = self._display_names(conn).get(agent) if agent else None
        return [_public_message(i, sender, body, now, agent, display)
                for i, body in zip(ids, bodies, strict=True)]

    def set_delivered(self, message_id: int, delivered: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(messages).where(messages.c.id == message_id)
                         .values(delivered=delivered))

    def history(self, conv_id: str, limit: int = 500, *, for_desk: bool = False
                ) -> list[dict[str, Any]]:
        """The stored messages, oldest first. ``agent`` is the agent's display name (left out
        without one); ``for_desk`` adds ``agent_login``, which the shopper never gets."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(messages)
                .where(messages.c.conversation_id == conv_id)
                .order_by(messages.c.id.desc())
                .limit(limit)
            ).all()
            names = self._display_names(conn)
        return [
            _public_message(r.id, r.sender, r.body, r.created_at, r.agent,
                            names.get(r.agent) if r.agent else None, for_desk=for_desk)
            | {"delivered": r.delivered}
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
                   "created_at": iso(conv.created_at),
                   "messages": self.history(conv.id, 100_000, for_desk=True)}

    # agents -------------------------------------------------------------------------------
    def create_agent(self, name: str, password: str, *, replace: bool = False,
                     display_name: str | None = None) -> None:
        hashed = security.hash_password(password)
        values: dict[str, Any] = {"password_hash": hashed}
        if display_name:
            values["display_name"] = display_name
        with self.engine.begin() as conn:
            exists = conn.execute(select(agents.c.id).where(agents.c.name == name)).first()
            if exists and not replace:
                raise AgentExists(f"agent {name!r} already exists (use --replace to set a new password)")
            if exists:
                conn.execute(update(agents).where(agents.c.name == name).values(**values))
                return
            try:
                conn.execute(insert(agents).values(name=name, created_at=time.time(), **values))
            except IntegrityError as exc:
                raise AgentExists(f"agent {name!r} already exists") from exc

    def set_display_name(self, name: str, display_name: str | None) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(update(agents).where(agents.c.name == name)
                                .values(display_name=display_name or None)).rowcount == 1

    def display_name(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return self._display_names(conn).get(name)

    @staticmethod
    def _display_names(conn: Any) -> dict[str, str]:
        """login → display name, for the agents that have one (a handful of rows)."""
        rows = conn.execute(select(agents.c.name, agents.c.display_name)
                            .where(agents.c.display_name.is_not(None))).all()
        return {r.name: r.display_name for r in rows if r.display_name}

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


def _mentions(search: str) -> Any:
    """SQL: the handoff's customer, e-mail or order, or a message of its conversation, contains
    ``search`` (any case; ``%`` and ``_`` are literal). SQLite and PostgreSQL alike."""
    pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

    def like(value: Any) -> Any:
        return value.as_string().ilike(pattern, escape="\\")

    said = exists().where(messages.c.conversation_id == handoffs.c.conversation_id,
                          or_(like(messages.c.body["text"]), like(messages.c.body["display"])))
    return or_(*(like(handoffs.c.context[key]) for key in ("customer", "email", "order")), said)


def _display_text(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    return str(body.get("display") or body.get("text") or "")


def _public_message(message_id: int, sender: str, body: dict[str, Any], created_at: float,
                    agent: str | None, display: str | None = None, *, for_desk: bool = False
                    ) -> dict[str, Any]:
    """A stored message as the API returns it: the BotMessage plus id, sender and time, and for
    an agent's message the agent's display name as ``agent`` (none without one: the shopper
    never sees a login). ``for_desk`` adds the login as ``agent_login``."""
    data = dict(body) if isinstance(body, dict) else {"type": "text", "text": str(body)}
    data.pop("agent", None)
    data.update(id=message_id, sender=sender, time=iso(created_at))
    if display:
        data["agent"] = display
    if agent and for_desk:
        data["agent_login"] = agent
    return data
