"""Agent desk API: login (session cookie), live queue over a websocket, claim, reply, hand back, close."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from bot import keys
from bot.api import CONV_ID
from bot.errors import ApiError, read_json
from bot.rasa_client import RasaUnavailable, summarize_tracker
from bot.security import bad_characters

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

COOKIE = "aisle_desk"
MAX_REPLY_CHARS = 4000


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
    wait = request.app[keys.LOGIN_LIMITER].hit(request[keys.CLIENT_ADDR])
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
    response = web.json_response({"agent": name})
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
    return web.json_response({"agent": await current_agent(request)})


@routes.get("/api/desk/queue")
async def queue(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    service = request.app[keys.SERVICE]
    return web.json_response(await service.db(service.store.queue, agent))


@routes.get("/api/desk/conversations/{conv_id}")
async def conversation(request: web.Request) -> web.Response:
    """Transcript plus what the bot knew: slots, intent history, products shown with explanations."""
    await current_agent(request)
    conv = await held_conversation(request)
    service = request.app[keys.SERVICE]
    history, shown = await asyncio.gather(
        service.db(service.store.history, conv["id"]),
        service.db(service.store.products_shown, conv["id"]),
    )
    try:
        bot_knew: dict[str, Any] = summarize_tracker(await service.rasa.tracker(conv["id"]))
    except RasaUnavailable as exc:
        log.warning("tracker of %s unavailable: %s", conv["id"], exc)
        bot_knew = {"error": "Rasa is not reachable: slots and intents are unavailable right now."}
    return web.json_response({
        "conversation_id": conv["id"],
        "status": conv["status"],
        "assigned_agent": conv["assigned_agent"],
        "messages": history,
        "products_shown": shown,
        "bot": bot_knew,
    })


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
    return web.json_response({"message": stored}, status=201)


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
    """Pushes ``queue`` updates (with ``notify`` when a conversation starts waiting) and the
    shopper's messages in conversations this agent holds."""
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
                if isinstance(data, dict) and data.get("type") == "ping":
                    await ws.send_json({"type": "pong"})
    finally:
        hub.desks[agent].discard(ws)
        if not hub.desks[agent]:
            hub.desks.pop(agent, None)
    return ws
