"""Shopper API (docs/architecture.md §3.4): conversations, messages, websocket, feedback events, history."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from aiohttp import WSMsgType, web

from bot import keys
from bot.errors import ApiError, read_json
from bot.security import bad_characters, token_matches
from bot.store import FEEDBACK_TYPES

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

CONV_ID = re.compile(r"^[0-9a-f]{32}$")
PRODUCT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
MAX_DISPLAY_CHARS = 200


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


async def authorize(request: web.Request, token: str | None) -> dict[str, Any]:
    """The conversation named in the URL, if ``token`` belongs to it; else 401/403/404."""
    conv_id = request.match_info["conv_id"]
    if not CONV_ID.match(conv_id):
        raise ApiError(404, "No such conversation.")
    if not token:
        raise ApiError(401, "Missing conversation token (Authorization: Bearer …).")
    service = request.app[keys.SERVICE]
    conv = await service.db(service.store.get_conversation, conv_id)
    if conv is None:
        raise ApiError(404, "No such conversation.")
    if not token_matches(token, conv["token_hash"]):
        raise ApiError(403, "This token does not belong to that conversation.")
    return conv


def check_text(settings: Any, data: dict[str, Any]) -> tuple[str, str | None]:
    """Validate a shopper message: a non-empty string, short enough, no binary/control chars."""
    text = data.get("text")
    if not isinstance(text, str):
        raise ApiError(400, 'Send your message as {"text": "…"}.')
    if len(text) > settings.max_message_chars:
        raise ApiError(413, f"Your message is too long. Please keep it under "
                            f"{settings.max_message_chars} characters.",
                       max_chars=settings.max_message_chars)
    if bad_characters(text):
        raise ApiError(400, "Your message contains characters we can't accept (binary or control "
                            "characters). Please send plain text.")
    text = text.strip()
    if not text:
        raise ApiError(400, "Your message is empty.")
    display = data.get("display")
    if not isinstance(display, str) or bad_characters(display):
        display = None
    elif display:
        display = display.strip()[:MAX_DISPLAY_CHARS]
    return text, display or None


async def conversation_rate(request: web.Request, conv_id: str) -> None:
    wait = await request.app[keys.CONV_LIMITER].hit(conv_id)
    if wait:
        raise ApiError(429, "You're sending messages very fast. Please wait a moment.",
                       retry_after=round(wait, 1))


@routes.post("/api/conversations")
async def create_conversation(request: web.Request) -> web.Response:
    service = request.app[keys.SERVICE]
    conv_id, token = await service.db(service.store.create_conversation)
    return web.json_response({"conversation_id": conv_id, "token": token}, status=201)


@routes.post("/api/conversations/{conv_id}/messages")
async def post_message(request: web.Request) -> web.Response:
    conv = await authorize(request, bearer(request))
    data = await read_json(request)
    text, display = check_text(request.app[keys.SETTINGS], data)
    await conversation_rate(request, conv["id"])
    messages = await request.app[keys.SERVICE].shopper_message(conv["id"], text, display)
    return web.json_response({"messages": messages})


@routes.post("/api/conversations/{conv_id}/events")
async def post_event(request: web.Request) -> web.Response:
    conv = await authorize(request, bearer(request))
    data = await read_json(request)
    kind = data.get("type")
    if kind not in FEEDBACK_TYPES:
        raise ApiError(400, f"Event type must be one of {', '.join(FEEDBACK_TYPES)}.")
    product_id = data.get("product_id")
    if product_id is not None and (not isinstance(product_id, str) or not PRODUCT_ID.match(product_id)):
        raise ApiError(400, "product_id must be a short product id string.")
    value = data.get("value")
    if kind == "rating" and (not isinstance(value, int | float) or isinstance(value, bool)
                             or not 0 <= value <= 5):
        raise ApiError(400, "A rating needs a numeric value from 0 to 5.")
    if value is not None and not isinstance(value, int | float | str | bool):
        raise ApiError(400, "value must be a number, string or boolean.")
    if isinstance(value, str) and (len(value) > 200 or bad_characters(value)):
        raise ApiError(400, "value is too long or contains control characters.")
    await conversation_rate(request, conv["id"])
    service = request.app[keys.SERVICE]
    stored = await service.db(service.store.add_feedback, conv["id"], kind, product_id, value)
    return web.json_response({"event": stored}, status=201)


@routes.get("/api/conversations/{conv_id}/history")
async def get_history(request: web.Request) -> web.Response:
    conv = await authorize(request, bearer(request))
    service = request.app[keys.SERVICE]
    messages = await service.db(service.store.history, conv["id"])
    return web.json_response(
        {"conversation_id": conv["id"], "status": conv["status"], "messages": messages}
    )


@routes.get("/api/conversations/{conv_id}/ws")
async def shopper_ws(request: web.Request) -> web.WebSocketResponse:
    conv = await authorize(request, request.query.get("token") or bearer(request))
    settings = request.app[keys.SETTINGS]
    service = request.app[keys.SERVICE]
    hub = request.app[keys.HUB]
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=settings.max_body_bytes)
    await ws.prepare(request)
    hub.shoppers[conv["id"]].add(ws)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                await ws.send_json({"type": "error", "status": 400,
                                    "error": "Binary messages are not accepted. Please send text."})
                continue
            if msg.type != WSMsgType.TEXT:
                continue
            data: Any = None
            try:
                try:
                    data = json.loads(msg.data)
                except ValueError as exc:
                    raise ApiError(400, "The message is not valid JSON.") from exc
                if not isinstance(data, dict):
                    raise ApiError(400, "The message must be a JSON object.")
                if data.get("type") == "ping":
                    await ws.send_json({"type": "pong"})
                    continue
                if data.get("type") == "typing":  # shown to the agent holding the chat, if any
                    await service.shopper_typing(conv["id"])
                    continue
                text, display = check_text(settings, data)
                await conversation_rate(request, conv["id"])
                wait = await request.app[keys.CLIENT_LIMITER].hit(request[keys.CLIENT_ADDR])
                if wait:
                    raise ApiError(429, "Too many requests. Please wait a moment.",
                                   retry_after=round(wait, 1))
                for message in await service.shopper_message(conv["id"], text, display):
                    await ws.send_json(message)
            except ApiError as exc:
                await ws.send_json({"type": "error", "status": exc.status, "error": exc.message,
                                    **exc.extra, "ref": data.get("ref") if isinstance(data, dict) else None})
    finally:
        hub.shoppers[conv["id"]].discard(ws)
        if not hub.shoppers[conv["id"]]:
            hub.shoppers.pop(conv["id"], None)
    return ws
