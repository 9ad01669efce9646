"""Typed keys of the objects the app shares between handlers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from bot.availability import Availability
    from bot.canned import CannedReplies
    from bot.handoff import ConversationService
    from bot.rasa_client import RasaClient
    from bot.ratelimit import RateLimiter
    from bot.store import GatewayStore
    from bot.ws import Hub
    from common.settings import Settings

# set by create_app
SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
IMAGE_CACHE: web.AppKey[dict[str, str]] = web.AppKey("image_cache")
CONV_LIMITER: web.AppKey[RateLimiter] = web.AppKey("conv_limiter")
CLIENT_LIMITER: web.AppKey[RateLimiter] = web.AppKey("client_limiter")
LOGIN_LIMITER: web.AppKey[RateLimiter] = web.AppKey("login_limiter")

# set at startup by the cleanup contexts of bot.app, which also close them at cleanup
STORE: web.AppKey[GatewayStore] = web.AppKey("store")
CATALOG: web.AppKey[dict[str, Any]] = web.AppKey("catalog")
RASA: web.AppKey[RasaClient] = web.AppKey("rasa")
HUB: web.AppKey[Hub] = web.AppKey("hub")
SERVICE: web.AppKey[ConversationService] = web.AppKey("service")
CANNED: web.AppKey[CannedReplies] = web.AppKey("canned")
WARM_UP_TASK: web.AppKey[asyncio.Task[bool]] = web.AppKey("warm_up_task")  # only when warm_up is on
AVAILABILITY: web.AppKey[Availability] = web.AppKey("availability")

CLIENT_ADDR: web.RequestKey[str] = web.RequestKey("client_addr")  # used for rate limits
