"""Review page of the agent desk: flagged messages with the model's guess; an agent confirms
or corrects the intent and entities (``learning.review`` writes the record and
``data/nlu/reviewed/reviewed.yml``). Desk login required, same-origin only.

    GET  /desk/review                      the page
    GET  /api/desk/review                  {"export", "items": [...], "intents": [...], "entities": [...]}
    POST /api/desk/review/{candidate_id}   {"decision": "confirm"|"correct"|"skip", "intent"?, "entities"?}
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.desk import current_agent
from bot.errors import ApiError, read_json

routes = web.RouteTableDef()
CANDIDATE_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_ENTITIES = 20


def _queue() -> Any:
    from learning.review import ReviewQueue

    return ReviewQueue.from_settings()


def _listing() -> dict[str, Any]:
    from learning.review import load_domain

    queue = _queue()
    intents, entities = load_domain(queue.domain_path)
    return {"export": str(queue.export) if queue.export else None, "items": queue.pending()[:200],
            "intents": sorted(intents), "entities": sorted(entities)}


@routes.get("/desk/review")
@aiohttp_jinja2.template("review.html")
async def review_page(request: web.Request) -> dict[str, Any]:
    return {}


@routes.get("/api/desk/review")
async def list_flagged(request: web.Request) -> web.Response:
    await current_agent(request)
    return web.json_response(await asyncio.to_thread(_listing))


@routes.post("/api/desk/review/{candidate_id}")
async def review_one(request: web.Request) -> web.Response:
    from learning.review import ReviewError

    agent = await current_agent(request)
    candidate_id = request.match_info["candidate_id"]
    if not CANDIDATE_ID.match(candidate_id):
        raise ApiError(404, "No such message to review.")
    data = await read_json(request)
    decision = data.get("decision", "confirm")
    if decision not in ("confirm", "correct", "skip"):
        raise ApiError(400, 'decision must be "confirm", "correct" or "skip".')
    intent = data.get("intent")
    entities = data.get("entities")
    if intent is not None and (not isinstance(intent, str) or len(intent) > 64):
        raise ApiError(400, "intent must be an intent name.")
    if entities is not None and (not isinstance(entities, list) or len(entities) > MAX_ENTITIES):
        raise ApiError(400, f"entities must be a list of at most {MAX_ENTITIES} objects.")
    if decision == "confirm":
        intent, entities = None, None
    try:
        record = await asyncio.to_thread(
            _queue().review, candidate_id, intent, entities, agent, "skip" if decision == "skip" else None)
    except ReviewError as exc:
        status = 404 if str(exc).startswith("no candidate") else 400
        raise ApiError(status, str(exc)) from exc
    return web.json_response({"record": record}, status=201)
