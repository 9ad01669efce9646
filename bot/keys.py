"""Typed keys of the objects the app shares between handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from bot.handoff import ConversationService
    from bot.ratelimit import RateLimiter
    from bot.ws import Hub
    from common.settings import Settings

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
SERVICE: web.AppKey[ConversationService] = web.AppKey("service")
HUB: web.AppKey[Hub] = web.AppKey("hub")
CATALOG: web.AppKey[dict[str, Any]] = web.AppKey("catalog")
CONV_LIMITER: web.AppKey[RateLimiter] = web.AppKey("conv_limiter")
CLIENT_LIMITER: web.AppKey[RateLimiter] = web.AppKey("client_limiter")
LOGIN_LIMITER: web.AppKey[RateLimiter] = web.AppKey("login_limiter")
CLIENT_ADDR: web.RequestKey[str] = web.RequestKey("client_addr")  # used for rate limits
