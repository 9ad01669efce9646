"""The aiohttp application factory: middlewares, pages, images, health, and the lifecycle of the
gateway's resources (cleanup contexts)."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from sqlalchemy.exc import OperationalError

from bot import api, desk, documents, keys, review
from bot.availability import PROBE_EVERY_S, Availability
from bot.canned import CannedReplies
from bot.errors import ApiError
from bot.handoff import ConversationService
from bot.rasa_client import RasaClient
from bot.ratelimit import RateLimiter, limit_storage
from bot.shop_activity import ShopActivity
from bot.store import GatewayStore
from bot.warmup import warm_up
from bot.ws import Hub
from common.metrics import exposition
from common.money import format_money
from common.settings import Settings, get_settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"  # js, css: served as they are
TEMPLATES = Path(__file__).resolve().parent / "templates"  # the HTML pages (Jinja2)
IMAGE_PATH = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
STOREFRONT_PRODUCTS = 24

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


# middlewares ---------------------------------------------------------------------------------

def client_address(request: web.Request, settings: Settings) -> str:
    if settings.trust_proxy and (forwarded := request.headers.get("X-Forwarded-For")):
        return forwarded.split(",")[0].strip()
    return request.remote or "unknown"


# a shopper message is stored before it goes to Rasa: when storing fails nothing was acknowledged
STORE_DOWN_TEXT = "Sorry, I can't save messages right now, so this one was not sent. Please try again in a moment."


@web.middleware
async def errors_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every error becomes JSON ``{"error": …}``; nothing leaks a stack trace."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPRequestEntityTooLarge:
        return ApiError(413, "That message is too large. Please send something shorter.").response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return web.json_response({"error": exc.reason}, status=exc.status, headers={
            k: v for k, v in exc.headers.items() if k.lower() == "allow"})
    except asyncio.CancelledError:
        raise
    except OperationalError as exc:  # the database is unreachable, read-only or full
        log.error("store unavailable on %s %s: %s", request.method, request.path, exc)
        return web.json_response({"error": STORE_DOWN_TEXT}, status=503)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return web.json_response({"error": "Something went wrong on our side. Please try again."},
                                 status=500)


@web.middleware
async def cors_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """The shopper API may be called from the shop's own pages (AISLE_CORS_ORIGINS)."""
    settings = request.app[keys.SETTINGS]
    origin = request.headers.get("Origin")
    shopper_api = request.path.startswith("/api/conversations")
    cross_site = origin is not None and urlsplit(origin).netloc != request.host
    allowed = cross_site and origin.rstrip("/") in settings.cors_origins
    if shopper_api and cross_site and not allowed:
        return ApiError(403, "This site is not allowed to use the chat (CORS allow-list).").response()
    if shopper_api and request.method == "OPTIONS" and allowed:
        response: web.StreamResponse = web.Response(status=204)
        response.headers.update({
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": "600",
        })
    else:
        response = await handler(request)
    if allowed and shopper_api:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


@web.middleware
async def client_rate_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    settings = request.app[keys.SETTINGS]
    request[keys.CLIENT_ADDR] = client_address(request, settings)
    if request.path.startswith("/api/") and request.method != "OPTIONS":
        wait = await request.app[keys.CLIENT_LIMITER].hit(request[keys.CLIENT_ADDR])
        if wait:
            raise ApiError(429, "Too many requests. Please wait a moment.", retry_after=round(wait, 1))
    return await handler(request)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/static/widget."):
        return  # embeddable in the shop's pages; the embedding page sets its own policy
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")


# pages ---------------------------------------------------------------------------------------

def price(product: Any) -> str:
    """The ``price`` filter of the templates: "$89.00", "" without a price."""
    return "" if product.price is None else format_money(product.price, product.currency, cents=True)


def storefront_products(catalog: dict[str, Any]) -> list[Any]:
    """A varied shelf: round-robin over the product types, first products first."""
    by_type: dict[str, list[Any]] = {}
    for product in catalog.values():
        by_type.setdefault(product.product_type or "", []).append(product)
    shelf: list[Any] = []
    while len(shelf) < STOREFRONT_PRODUCTS and any(by_type.values()):
        for items in by_type.values():
            if items and len(shelf) < STOREFRONT_PRODUCTS:
                shelf.append(items.pop(0))
    return shelf


@aiohttp_jinja2.template("index.html")
async def storefront(request: web.Request) -> dict[str, Any]:
    return {"products": storefront_products(request.app[keys.CATALOG])}


@aiohttp_jinja2.template("product.html")
async def product_page(request: web.Request) -> dict[str, Any]:
    """The demo shop's product page (the catalog's ``url`` is ``/products/<id>``)."""
    product_id = request.match_info["product_id"]
    product = request.app[keys.CATALOG].get(product_id) if IMAGE_PATH.match(product_id) else None
    if product is None:
        raise ApiError(404, "No such product.")
    details = [
        (label, values)
        for label, values in (("Brand", [product.brand or ""]), ("Colours", product.colors),
                              ("Sizes", product.sizes), ("Materials", product.materials))
        if any(values)
    ]
    return {"product": product, "details": details}


@aiohttp_jinja2.template("desk.html")
async def desk_page(request: web.Request) -> dict[str, Any]:
    return {}


def _placeholder_svg(product: Any) -> str:
    title = html.escape(product.title[:40])
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="320" viewBox="0 0 320 320">'
        '<rect width="320" height="320" fill="#eef1f4"/>'
        f'<text x="160" y="165" font-family="sans-serif" font-size="16" fill="#445" '
        f'text-anchor="middle">{title}</text></svg>'
    )


def render_svg(product: Any, color: str | None = None) -> str:
    try:
        from bot.product_art import render_product_svg
    except ImportError:  # the data helper's renderer is not there yet
        return _placeholder_svg(product)
    return render_product_svg(product, color)


async def product_image(request: web.Request) -> web.Response:
    product_id = request.match_info["product_id"]
    product = request.app[keys.CATALOG].get(product_id) if IMAGE_PATH.match(product_id) else None
    if product is None:
        raise ApiError(404, "No such product image.")
    # ?color=: one of the product's colours (the one the shopper asked for); others draw the first
    wanted = next((c for c in product.colors if c.lower() == request.query.get("color", "").lower()),
                  None)
    key = f"{product_id}|{wanted or ''}"
    cache: dict[str, str] = request.app[keys.IMAGE_CACHE]
    if key not in cache:
        if len(cache) > 5000:
            cache.clear()
        cache[key] = render_svg(product, wanted)
    return web.Response(
        text=cache[key], content_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=3600",
                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )


def _warmed_up(app: web.Application) -> bool | None:
    """True once the start-up warm-up turn was answered; None when warm-up is switched off."""
    task = app.get(keys.WARM_UP_TASK)
    if task is None:
        return None
    return task.done() and not task.cancelled() and task.exception() is None and task.result()


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics (common/metrics.py), for a scraper on this machine only: a client
    address off loopback (after X-Forwarded-For with AISLE_TRUST_PROXY) gets a 404."""
    if client_address(request, request.app[keys.SETTINGS]) not in ("127.0.0.1", "::1"):
        raise web.HTTPNotFound()
    body, content_type = exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


async def probe(app: web.Application) -> dict[str, dict[str, Any]]:
    """Rasa, the action server and the gateway's store, each with ``since`` (bot/availability.py).
    When Rasa comes back after being down, the warm-up turn runs again."""
    service, parts = app[keys.SERVICE], app[keys.AVAILABILITY]
    try:
        await service.db(service.store.ping)
        store: dict[str, Any] = {"ok": True}
    except Exception as exc:  # any driver error means the store is down
        store = {"ok": False, "error": type(exc).__name__}
    rasa_was_down = "rasa" in parts.down()
    remote = await service.rasa.health()
    if (channel := app[keys.HUB].channel_up) is not None:  # several replicas: Redis pub/sub
        remote["events"] = {"ok": channel}
    observed = {name: parts.observe(name, state) for name, state in {**remote, "store": store}.items()}
    if rasa_was_down and observed["rasa"]["ok"]:
        start_warm_up(app)
    return observed


async def health(request: web.Request) -> web.Response:
    parts = await probe(request.app)
    ok = all(part["ok"] for part in parts.values())
    body = {"status": "ok" if ok else ("degraded" if parts["store"]["ok"] else "down"), **parts,
            "down": request.app[keys.AVAILABILITY].down(),
            "catalog": {"products": len(request.app[keys.CATALOG])}, "warmed_up": _warmed_up(request.app)}
    return web.json_response(body, status=200 if parts["store"]["ok"] else 503)


# lifecycle -----------------------------------------------------------------------------------
# Each resource is opened and closed by its own cleanup context; aiohttp enters them in the order
# given in create_app at startup (so the store and the catalog, both read in worker threads, are
# there before the service) and leaves them in reverse order at cleanup.

def load_catalog_index(path: Path) -> dict[str, Any]:
    if not path.exists():
        log.warning("catalog %s not found: the storefront shows no products", path)
        return {}
    from recommender.catalog import load_catalog

    report = load_catalog(path)
    for error in report.errors[:10]:
        log.warning("catalog %s: %s", path, error)
    return {p.id: p for p in report.products}


async def store_ctx(app: web.Application) -> AsyncIterator[None]:
    """The SQL store: schema created at startup, engine disposed at cleanup (both off the loop)."""
    store = GatewayStore(app[keys.SETTINGS].gateway_db_url)
    try:
        await asyncio.to_thread(store.create_schema)
        app[keys.STORE] = store
        yield
    finally:
        await asyncio.to_thread(store.dispose)


async def catalog_ctx(app: web.Application) -> AsyncIterator[None]:
    """The storefront's catalog index, read in a worker thread so the loop stays free."""
    app[keys.CATALOG] = await asyncio.to_thread(load_catalog_index, app[keys.SETTINGS].catalog_path)
    yield


async def rasa_ctx(app: web.Application) -> AsyncIterator[None]:
    """The Rasa HTTP client; its aiohttp ClientSession is opened here and closed at cleanup."""
    settings = app[keys.SETTINGS]
    async with RasaClient(settings.rasa_url, settings.rasa_token, settings.actions_url,
                          settings.rasa_timeout) as rasa:
        app[keys.RASA] = rasa
        yield


async def hub_ctx(app: web.Application) -> AsyncIterator[None]:
    """The websocket hub and its event channel (Redis with AISLE_REDIS_URL). Its sockets are
    closed by close_sockets on shutdown, before aiohttp waits for the open handlers; closing them
    again here catches any that came later."""
    app[keys.HUB] = hub = Hub(app[keys.SETTINGS].redis_url)
    await hub.start()
    yield
    await hub.stop()


async def close_sockets(app: web.Application) -> None:
    """on_shutdown: an open websocket is a running handler, which aiohttp waits for (up to the
    shutdown timeout) between on_shutdown and on_cleanup, so the sockets close here."""
    if keys.HUB in app:
        await app[keys.HUB].close_all()


async def service_ctx(app: web.Application) -> AsyncIterator[None]:
    """The conversation service over the store, the Rasa client and the hub (owns none of them)."""
    store = app[keys.STORE]
    shop = ShopActivity(app[keys.SETTINGS].shop_db_url)  # what the bot did in the shop, read only
    app[keys.SERVICE] = ConversationService(store, app[keys.RASA], app[keys.HUB], app[keys.CATALOG],
                                            shop)
    app[keys.CANNED] = CannedReplies(app[keys.SETTINGS].desk_canned_path)
    app[documents.DOCUMENTS] = docs = documents.ShopDocuments(app[keys.SETTINGS].shop_db_url)
    log.info("gateway ready: %d products, store %s, rasa %s", len(app[keys.CATALOG]),
             store.engine.url.render_as_string(hide_password=True), app[keys.SETTINGS].rasa_url)
    yield
    await asyncio.to_thread(shop.dispose)
    await asyncio.to_thread(docs.dispose)


def start_warm_up(app: web.Application) -> None:
    """The warm-up turn in the background (AISLE_WARM_UP), unless one is still running."""
    running = app.get(keys.WARM_UP_TASK)
    if app[keys.SETTINGS].warm_up and (running is None or running.done()):
        app[keys.WARM_UP_TASK] = asyncio.create_task(warm_up(app[keys.SETTINGS].rasa_url),
                                                     name="aisle-warm-up")


async def warm_up_ctx(app: web.Application) -> AsyncIterator[None]:
    """Warm up at start; cancelled at cleanup if still running."""
    start_warm_up(app)
    yield
    if (task := app.get(keys.WARM_UP_TASK)) is not None:
        task.cancel()  # no-op once it has finished
        await asyncio.wait([task])  # lets its Rasa client close; raises nothing


async def probe_ctx(app: web.Application) -> AsyncIterator[None]:
    """Probe every PROBE_EVERY_S seconds, so /health's ``since`` is when a part went down."""

    async def loop() -> None:
        while True:
            try:
                await probe(app)
            except Exception:  # a probe must never end the loop
                log.exception("health probe failed")
            await asyncio.sleep(PROBE_EVERY_S)

    task = asyncio.create_task(loop(), name="aisle-health-probe")
    yield
    task.cancel()
    await asyncio.wait([task])


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or get_settings()
    app = web.Application(
        middlewares=[cors_middleware, errors_middleware, client_rate_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app[keys.SETTINGS] = settings
    app[keys.IMAGE_CACHE] = {}
    limits = limit_storage(settings.redis_url)  # shared by the replicas when in Redis
    app[keys.CONV_LIMITER] = RateLimiter("conversation", settings.rate_conversation,
                                         settings.rate_window, limits)
    app[keys.CLIENT_LIMITER] = RateLimiter("client", settings.rate_client, settings.rate_window,
                                           limits)
    app[keys.LOGIN_LIMITER] = RateLimiter("login", settings.rate_login, settings.rate_window, limits)
    app[keys.AVAILABILITY] = Availability()
    app.cleanup_ctx.extend([store_ctx, catalog_ctx, rasa_ctx, hub_ctx, service_ctx, warm_up_ctx, probe_ctx])
    app.on_shutdown.append(close_sockets)
    app.on_response_prepare.append(security_headers)
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                         undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                         filters={"price": price})
    app.router.add_get("/", storefront)
    app.router.add_get("/desk", desk_page)
    app.router.add_get("/products/{product_id}", product_page)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/images/{product_id}.svg", product_image)
    app.router.add_routes(api.routes)
    app.router.add_routes(desk.routes)
    app.router.add_routes(review.routes)
    app.router.add_routes(documents.routes)
    app.router.add_static("/static/", STATIC, show_index=False, append_version=False)
    return app
