"""The conversation service: a shopper turn, and the handoff between bot and agents.

States of a conversation: ``bot`` → (handoff payload from Rasa) ``waiting`` → (an agent claims)
``agent`` → (hand back) ``bot`` or (close) ``closed``. While ``waiting`` or ``agent`` the Rasa
tracker is paused: shopper messages still go to Rasa's REST channel (Rasa logs them, does not
answer) and agent replies are appended as bot events, so the tracker stays complete.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from bot.cards import enrich_messages
from bot.desk_view import handoff_reason, order_context
from bot.rasa_client import RasaClient, RasaUnavailable, map_rasa_reply
from bot.shop_activity import ShopActivity
from bot.store import GatewayStore
from bot.ws import Hub
from common.metrics import TURN_SECONDS, log_turn

log = logging.getLogger(__name__)
T = TypeVar("T")

FALLBACK_TEXT = (
    "Sorry, I can't answer right now. Your message is saved; "
    "please try again in a moment, or ask for a human agent."
)
# Rasa answered nothing: a custom action failed (the action server restarting, say); Rasa goes on
# without the action's events, so the shopper is told plainly instead of hearing nothing
NO_REPLY_TEXT = (
    "Sorry, I couldn't finish that just now. Your message is saved; please try again in a moment."
)
CLOSED_TEXT = "The agent has closed this chat. I'm here if you need anything else."


class ConversationService:
    def __init__(self, store: GatewayStore, rasa: RasaClient, hub: Hub,
                 catalog: dict[str, Any] | None = None, shop: ShopActivity | None = None) -> None:
        self.store = store
        self.rasa = rasa
        self.hub = hub
        hub.on_queue = self._send_queue  # every replica sends the queue to its own agents
        self.catalog = catalog or {}  # product cards get brand, sizes, gender… from it
        self.shop = shop or ShopActivity(None)  # the shop's audit log and customers, read only
        # one lock per conversation keeps its turns in order; dropped when nobody uses it
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._lock_users: defaultdict[str, int] = defaultdict(int)

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)

    # shopper side ---------------------------------------------------------------------------
    async def shopper_message(self, conv_id: str, text: str, display: str | None = None
                              ) -> list[dict[str, Any]]:
        """Store the shopper's text first, then ask Rasa (unless a human handles it)."""
        self._lock_users[conv_id] += 1
        try:
            async with self._locks[conv_id]:
                started = time.perf_counter()
                replies = await self._shopper_turn(conv_id, text, display)
                self._record_turn(conv_id, replies, time.perf_counter() - started)
                await self.publish(conv_id, replies)
                return replies
        finally:
            self._lock_users[conv_id] -= 1
            if not self._lock_users[conv_id]:
                del self._lock_users[conv_id]
                self._locks.pop(conv_id, None)

    @staticmethod
    def _record_turn(conv_id: str, messages: list[dict[str, Any]], seconds: float) -> None:
        """The turn's metric and its log line (``aisle.turn``; Rasa's share is its own metric)."""
        outcome = ("agent" if not messages else
                   "fallback" if any(m.get("fallback") for m in messages) else "answered")
        TURN_SECONDS.labels(outcome).observe(seconds)
        log_turn(process="gateway", conversation=conv_id[:12], outcome=outcome,
                 total_ms=round(seconds * 1000, 1), messages=len(messages),
                 products=sum(len(m.get("items") or []) for m in messages))

    async def _shopper_turn(self, conv_id: str, text: str, display: str | None
                            ) -> list[dict[str, Any]]:
        conv = await self.db(self.store.get_conversation, conv_id)
        if conv is None:
            return []
        if conv["status"] == "closed":
            await self.db(self.store.reopen, conv_id)
            conv["status"] = "bot"
        body: dict[str, Any] = {"type": "text", "text": text}
        if display and display != text:
            body["display"] = display
        stored = await self.db(self.store.add_message, conv_id, "shopper", body, delivered=False)

        if conv["status"] in ("waiting", "agent"):
            await self._forward_to_humans(conv, stored)
            return []
        await self.publish(conv_id, [stored])  # desks that have it open (e.g. after a hand-back)

        try:
            items = await self.rasa.send_message(conv_id, text)
        except RasaUnavailable as exc:
            log.warning("Rasa unavailable for %s: %s", conv_id, exc)
            reply = {"type": "text", "text": FALLBACK_TEXT, "fallback": True}
            return [await self.db(self.store.add_message, conv_id, "bot", reply,
                                  reply_to=stored["id"])]
        bot_messages = enrich_messages(map_rasa_reply(items), self.catalog) or [
            {"type": "text", "text": NO_REPLY_TEXT, "fallback": True}]
        saved = await self.db(self.store.record_reply, conv_id, stored["id"], bot_messages)
        if any(m["type"] == "handoff" for m in bot_messages):
            await self.start_handoff(conv_id)
        return saved

    async def _forward_to_humans(self, conv: dict[str, Any], stored: dict[str, Any]) -> None:
        conv_id = conv["id"]
        if conv["status"] == "agent" and conv["assigned_agent"]:
            await self.publish(conv_id, [stored], holder=conv["assigned_agent"])
        else:
            await self.publish(conv_id, [stored])
            await self.broadcast_queue()
        try:  # Rasa's tracker is paused: it records the message and does not answer
            await self.rasa.send_message(conv_id, stored["text"])
            await self.db(self.store.set_delivered, stored["id"], True)
        except RasaUnavailable as exc:
            log.warning("could not record paused message in Rasa for %s: %s", conv_id, exc)

    async def publish(self, conv_id: str, messages: list[dict[str, Any]],
                      holder: str | None = None) -> None:
        """New messages of a conversation to the desks that have it open (and its holder)."""
        for message in messages:
            await self.hub.to_desks(conv_id, {"type": "message", "conversation_id": conv_id,
                                              "message": message}, agent=holder)

    async def agent_typing(self, conv_id: str, agent: str) -> None:
        """The agent holding the conversation is writing: the shopper sees "… is typing"."""
        conv = await self.db(self.store.get_conversation, conv_id)
        if not conv or conv["status"] != "agent" or conv["assigned_agent"] != agent:
            return
        payload: dict[str, Any] = {"type": "typing", "sender": "agent"}
        display = await self.db(self.store.display_name, agent)
        if display:
            payload["agent"] = display
        await self.hub.to_shopper(conv_id, payload)

    async def add_note(self, conv_id: str, agent: str, text: str) -> dict[str, Any]:
        """An internal note: stored and shown to agents; the shopper's API and socket never
        carry it."""
        note = await self.db(self.store.add_note, conv_id, agent, text)
        await self.hub.to_desks(conv_id, {"type": "note", "conversation_id": conv_id, "note": note})
        return note

    async def shopper_typing(self, conv_id: str) -> None:
        """The shopper is writing: the agent holding the conversation sees it (nobody else)."""
        conv = await self.db(self.store.get_conversation, conv_id)
        if conv and conv["status"] == "agent" and conv["assigned_agent"]:
            await self.hub.to_agent(conv["assigned_agent"], {
                "type": "typing", "conversation_id": conv_id, "sender": "shopper"})

    # handoff --------------------------------------------------------------------------------
    async def start_handoff(self, conv_id: str) -> bool:
        if not await self.db(self.store.mark_waiting, conv_id):
            return False
        try:
            await self.rasa.pause(conv_id)
        except RasaUnavailable as exc:
            log.warning("could not pause Rasa tracker %s: %s", conv_id, exc)
        await self._record_handoff_context(conv_id)
        await self.broadcast_queue(notify=conv_id)
        return True

    async def _record_handoff_context(self, conv_id: str) -> None:
        """Why the bot handed over, the order and the customer it knew: for the queue."""
        try:
            tracker = await self.rasa.tracker(conv_id)
        except RasaUnavailable as exc:
            log.warning("tracker of %s unavailable for the handoff reason: %s", conv_id, exc)
            return
        context = order_context(tracker)
        if context.get("verified"):
            name = await self.db(self.shop.customer_name, context["order"])
            if name:
                context["customer"] = name
        await self.db(self.store.set_handoff_context, conv_id, handoff_reason(tracker), context)

    async def claim(self, conv_id: str, agent: str) -> dict[str, Any] | None:
        if not await self.db(self.store.claim, conv_id, agent):
            return None
        status = await self._status_message(conv_id, {"type": "handoff", "status": "agent"},
                                            agent=agent)  # the shopper sees the display name
        await self.broadcast_queue()
        return status

    async def agent_reply(self, conv_id: str, agent: str, text: str) -> dict[str, Any]:
        stored = await self.db(self.store.add_message, conv_id, "agent",
                               {"type": "text", "text": text}, agent=agent)
        await self.hub.to_shopper(conv_id, stored)
        await self.publish(conv_id, [{**stored, "agent_login": agent}], holder=agent)
        try:
            await self.rasa.record_agent_reply(conv_id, text, agent)
        except RasaUnavailable as exc:
            log.warning("could not record agent reply in Rasa for %s: %s", conv_id, exc)
        return stored

    async def hand_back(self, conv_id: str, agent: str) -> bool:
        if not await self.db(self.store.hand_back, conv_id, agent):
            return False
        await self._resume(conv_id)
        await self._status_message(conv_id, {"type": "handoff", "status": "bot"})
        await self.broadcast_queue()
        return True

    async def close(self, conv_id: str, agent: str) -> bool:
        if not await self.db(self.store.close_conversation, conv_id, agent):
            return False
        await self._resume(conv_id)
        await self._status_message(conv_id, {"type": "handoff", "status": "bot"})
        await self._status_message(conv_id, {"type": "text", "text": CLOSED_TEXT})
        await self.broadcast_queue()
        return True

    async def _resume(self, conv_id: str) -> None:
        try:
            await self.rasa.resume(conv_id)
        except RasaUnavailable as exc:
            log.warning("could not resume Rasa tracker %s: %s", conv_id, exc)

    async def _status_message(self, conv_id: str, body: dict[str, Any],
                              agent: str | None = None) -> dict[str, Any]:
        stored = await self.db(self.store.add_message, conv_id, "system", body, agent=agent)
        await self.hub.to_shopper(conv_id, stored)
        await self.publish(conv_id, [{**stored, "agent_login": agent} if agent else stored])
        return stored

    async def broadcast_queue(self, notify: str | None = None) -> None:
        """The queue changed: every replica's agents get theirs (``notify``: a conversation
        that started waiting)."""
        await self.hub.queue_changed(notify)

    async def _send_queue(self, notify: str | None) -> None:
        for agent in self.hub.connected_agents():
            queue = await self.db(self.store.queue, agent)
            payload: dict[str, Any] = {"type": "queue", **queue}
            if notify:
                payload["notify"] = notify
            await self.hub.deliver({"to": "agent", "agent": agent, "payload": payload})
