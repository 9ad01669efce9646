"""Agent desk API: login (session cookie), live queue over a websocket, claim, reply, hand back,
close; internal notes, canned replies, display names, typing signals."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from bot import desk_view, keys
from bot.api import CONV_ID
from bot.errors import ApiError, read_json
from bot.rasa_client import RasaUnavailable, summarize_tracker
from bot.security import bad_characters

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

COOKIE = "aisle_desk"
MAX_REPLY_CHARS = 4000
MAX_DISPLAY_NAME = 40
MAX_SEARCH_CHARS = 100
MAX_RESOLVED = 100


def same_origin(request: web.Request) -> bool:
    """Desk requests must come from the desk page itself (CSRF defence next to SameSite)."""
    origin = request.headers.get("Origin")
    if origin is None:  # not sent by browsers on same-origin GETs; cookies are SameSite=Strict
        return True
    return urlsplit(origin).netloc == request.host


async def current_agent(request: web.Request) -> str:
    if not same_origin(request):
        raise ApiError(403, "The agent desk only accepts requests from its own page.")
    service = request.app[keys.SERVICE]
    agent = await service.db(service.store.session_agent, request.cookies.get(COOKIE))
    if agent is None:
        raise ApiError(401, "Please log in to the agent desk.")
    return agent


async def held_conversation(request: web.Request) -> dict[str, Any]:
    conv_id = request.match_info["conv_id"]
    service = request.app[keys.SERVICE]
    conv = await service.db(service.store.get_conversation, conv_id) if CONV_ID.match(conv_id) else None
    if conv is None:
        raise ApiError(404, "No such conversation.")
    return conv


@routes.post("/api/desk/login")
async def login(request: web.Request) -> web.Response:
    if not same_origin(request):
        raise ApiError(403, "The agent desk only accepts requests from its own page.")
    wait = await request.app[keys.LOGIN_LIMITER].hit(request[keys.CLIENT_ADDR])
    if wait:
        raise ApiError(429, "Too many login attempts. Please wait a moment.", retry_after=round(wait, 1))
    data = await read_json(request)
    name, password = data.get("name"), data.get("password")
    if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
        raise ApiError(400, 'Send {"name": "…", "password": "…"}.')
    if len(name) > 64 or len(password) > 1024:
        raise ApiError(400, "Name or password too long.")
    service = request.app[keys.SERVICE]
    settings = request.app[keys.SETTINGS]
    token = await service.db(service.store.login, name, password, settings.desk_session_hours)
    if token is None:
        raise ApiError(401, "Wrong name or password.")
    display = await service.db(service.store.display_name, name)
    response = web.json_response({"agent": name, "display_name": display})
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="Strict", path="/",
        secure=request.secure, max_age=int(settings.desk_session_hours * 3600),
    )
    return response


@routes.post("/api/desk/logout")
async def logout(request: web.Request) -> web.Response:
    await current_agent(request)
    service = request.app[keys.SERVICE]
    await service.db(service.store.logout, request.cookies.get(COOKIE, ""))
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


@routes.get("/api/desk/me")
async def me(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    service = request.app[keys.SERVICE]
    display = await service.db(service.store.display_name, agent)
    return web.json_response({"agent": agent, "display_name": display})


@routes.post("/api/desk/me")
async def set_me(request: web.Request) -> web.Response:
    """``{"display_name": "Alice"}``: the name shoppers see (empty: none, they see "the shop team")."""
    agent = await current_agent(request)
    data = await read_json(request)
    display = data.get("display_name")
    if display is not None and not isinstance(display, str):
        raise ApiError(400, 'Send {"display_name": "…"}.')
    display = " ".join((display or "").split())
    if len(display) > MAX_DISPLAY_NAME or bad_characters(display):
        raise ApiError(400, f"A display name has at most {MAX_DISPLAY_NAME} plain characters.")
    service = request.app[keys.SERVICE]
    await service.db(service.store.set_display_name, agent, display or None)
    return web.json_response({"agent": agent, "display_name": display or None})


@routes.get("/api/desk/canned")
async def canned(request: web.Request) -> web.Response:
    await current_agent(request)
    return web.json_response({"replies": request.app[keys.CANNED].replies()})


@routes.get("/api/desk/queue")
async def queue(request: web.Request) -> web.Response:
    """The queue; ``?q=`` searches the resolved list (customer, e-mail, order, transcript),
    ``?limit=`` caps it (1 to MAX_RESOLVED, default 20)."""
    agent = await current_agent(request)
    search = request.query.get("q", "")
    if len(search) > MAX_SEARCH_CHARS or bad_characters(search):
        raise ApiError(400, f"A search has at most {MAX_SEARCH_CHARS} plain characters.")
    try:
        limit = int(request.query.get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_RESOLVED:
        raise ApiError(400, f"limit is a number from 1 to {MAX_RESOLVED}.")
    service = request.app[keys.SERVICE]
    result = await service.db(service.store.queue, agent, limit, search.strip() or None)
    return web.json_response({**result, "search": search.strip()})


@routes.get("/api/desk/conversations/{conv_id}")
async def conversation(request: web.Request) -> web.Response:
    """Transcript, notes, products shown, and what the bot knew: the shopping state as chips,
    the handoff reason, what the bot did (its actions and the shop's audit log), a summary line,
    and the raw slots and intents (``bot``)."""
    agent = await current_agent(request)
    conv = await held_conversation(request)
    service = request.app[keys.SERVICE]
    history, shown, notes, handoff = await asyncio.gather(
        service.db(service.store.history, conv["id"], for_desk=True),
        service.db(service.store.products_shown, conv["id"]),
        service.db(service.store.notes, conv["id"]),
        service.db(service.store.handoff, conv["id"]),
    )
    try:
        tracker = await service.rasa.tracker(conv["id"])
        bot_knew: dict[str, Any] = summarize_tracker(tracker)
    except RasaUnavailable as exc:
        log.warning("tracker of %s unavailable: %s", conv["id"], exc)
        tracker = {}
        bot_knew = {"error": "Rasa is not reachable: slots and intents are unavailable right now."}
    if history:  # opened: what it shows is read
        await service.db(service.store.mark_read, agent, conv["id"], history[-1]["id"])
    view = await _view(request, conv, tracker, handoff, shown)
    return web.json_response({
        "conversation_id": conv["id"],
        "status": conv["status"],
        "assigned_agent": conv["assigned_agent"],
        "messages": history,
        "notes": notes,
        "handoff": handoff,
        "products_shown": shown,
        "view": view,
        "bot": bot_knew,
    })


async def _view(request: web.Request, conv: dict[str, Any], tracker: dict[str, Any],
                handoff: dict[str, Any] | None, shown: list[dict[str, Any]]) -> dict[str, Any]:
    service = request.app[keys.SERVICE]
    slots = tracker.get("slots") or {}
    chips = desk_view.shopping_chips(slots.get("search_constraints"))
    context = {**desk_view.order_context(tracker), **((handoff or {}).get("context") or {})}
    if context.get("verified") and not context.get("customer"):
        name = await service.db(service.shop.customer_name, context["order"])
        if name:
            context["customer"] = name
    catalog = request.app[keys.CATALOG]
    titles = {pid: p.title for pid, p in catalog.items()} if len(catalog) <= 20_000 else {}
    orders = [context["order"]] if context.get("verified") else []
    events = await service.db(service.shop.events, conv["id"], orders, conv["created_at"], titles)
    reason = (handoff or {}).get("reason")
    if handoff and not reason and tracker:
        reason = desk_view.handoff_reason(tracker)
    customer = context.get("customer") or context.get("email")
    return {
        "chips": chips,
        "reason": reason,
        "context": context,
        "actions": desk_view.bot_actions(tracker, events),
        "summary": desk_view.summary(chips, context, reason, shown, events, customer),
    }


@routes.post("/api/desk/conversations/{conv_id}/read")
async def read(request: web.Request) -> web.Response:
    """``{"message_id": n}``: the desk showed the conversation up to that message (one that
    arrived while it was open), so it is not unread. Without it: up to the newest."""
    agent = await current_agent(request)
    conv = await held_conversation(request)
    data = await read_json(request)
    message_id = data.get("message_id")
    if message_id is not None and (isinstance(message_id, bool) or not isinstance(message_id, int)):
        raise ApiError(400, 'Send {"message_id": <number>}.')
    service = request.app[keys.SERVICE]
    upto = await service.db(service.store.mark_read, agent, conv["id"], message_id)
    return web.json_response({"ok": True, "read_up_to": upto})


@routes.post("/api/desk/conversations/{conv_id}/claim")
async def claim(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    conv = await held_conversation(request)
    status = await request.app[keys.SERVICE].claim(conv["id"], agent)
    if status is None:
        raise ApiError(409, "Another agent already took this conversation, or it is not waiting.")
    return web.json_response({"ok": True, "status": "agent", "agent": agent})


def _require_holder(conv: dict[str, Any], agent: str) -> None:
    if conv["status"] != "agent" or conv["assigned_agent"] != agent:
        raise ApiError(409, "You don't hold this conversation (claim it first).")


@routes.post("/api/desk/conversations/{conv_id}/reply")
async def reply(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    conv = await held_conversation(request)
    _require_holder(conv, agent)
    data = await read_json(request)
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, 'Send {"text": "…"}.')
    if len(text) > MAX_REPLY_CHARS or bad_characters(text):
        raise ApiError(400, "Reply too long or contains control characters.")
    stored = await request.app[keys.SERVICE].agent_reply(conv["id"], agent, text.strip())
    return web.json_response({"message": {**stored, "agent_login": agent}}, status=201)


@routes.post("/api/desk/conversations/{conv_id}/notes")
async def add_note(request: web.Request) -> web.Response:
    """An internal note on the conversation: for agents only, never sent to the shopper."""
    agent = await current_agent(request)
    conv = await held_conversation(request)
    data = await read_json(request)
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, 'Send {"text": "…"}.')
    if len(text) > MAX_REPLY_CHARS or bad_characters(text):
        raise ApiError(400, "Note too long or contains control characters.")
    note = await request.app[keys.SERVICE].add_note(conv["id"], agent, text.strip())
    return web.json_response({"note": note}, status=201)


@routes.post("/api/desk/conversations/{conv_id}/handback")
async def hand_back(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    conv = await held_conversation(request)
    if not await request.app[keys.SERVICE].hand_back(conv["id"], agent):
        raise ApiError(409, "You don't hold this conversation.")
    return web.json_response({"ok": True, "status": "bot"})


@routes.post("/api/desk/conversations/{conv_id}/close")
async def close(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    conv = await held_conversation(request)
    if not await request.app[keys.SERVICE].close(conv["id"], agent):
        raise ApiError(409, "You can close only a conversation you hold or one still waiting.")
    return web.json_response({"ok": True, "status": "closed"})


@routes.get("/api/desk/ws")
async def desk_ws(request: web.Request) -> web.WebSocketResponse:
    """Pushes ``queue`` updates (with ``notify`` when a conversation starts waiting), the
    shopper's messages in conversations this agent holds, and every new message and note of the
    conversation the desk has open. Accepts ``{"type": "watch", "conversation_id"}`` (the one
    open now; null for none), ``{"type": "typing", "conversation_id"}`` (shown to the shopper
    when this agent holds it) and ``{"type": "ping"}``."""
    agent = await current_agent(request)
    service = request.app[keys.SERVICE]
    hub = request.app[keys.HUB]
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=4096)
    await ws.prepare(request)
    hub.desks[agent].add(ws)
    try:
        await ws.send_json({"type": "queue", **await service.db(service.store.queue, agent)})
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    data = None
                if not isinstance(data, dict):
                    continue
                kind, conv_id = data.get("type"), data.get("conversation_id")
                if kind == "ping":
                    await ws.send_json({"type": "pong"})
                elif kind == "watch":
                    hub.watch(ws, conv_id if isinstance(conv_id, str) and CONV_ID.match(conv_id)
                              else None)
                elif kind == "typing" and isinstance(conv_id, str) and CONV_ID.match(conv_id):
                    await service.agent_typing(conv_id, agent)
    finally:
        hub.watch(ws, None)
        hub.desks[agent].discard(ws)
        if not hub.desks[agent]:
            hub.desks.pop(agent, None)
    return ws
