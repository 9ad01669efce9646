"""Warm the assistant up once at gateway start, so the first shopper does not wait for it.

The action server loads the encoder, the vector store and the FAQ index on first use (rasa-sdk
has no startup hook). One search turn from a throw-away sender, sent as soon as Rasa answers,
does that loading before a shopper arrives.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from bot.rasa_client import RasaClient, RasaUnavailable

log = logging.getLogger(__name__)
WARM_UP_TEXT = "show me running shoes"
WARM_UP_TIMEOUT = 120.0  # the first turn loads the models: far longer than a shopper's turn


async def warm_up(rasa_url: str, attempts: int = 600, pause: float = 1.0) -> bool:
    """Send one search turn to each Rasa replica (``rasa_url`` comma-separated) once it is up;
    True when every one answered."""
    replicas = [url for url in rasa_url.split(",") if url.strip()]
    return all(await asyncio.gather(*(_warm_up_one(url, attempts, pause) for url in replicas)))


async def _warm_up_one(rasa_url: str, attempts: int, pause: float) -> bool:
    sender = f"aisle-warm-up-{secrets.token_hex(4)}"
    async with RasaClient(rasa_url, token="", actions_url=rasa_url, timeout=WARM_UP_TIMEOUT) as rasa:
        for _ in range(attempts):
            try:
                await rasa.send_message(sender, WARM_UP_TEXT)
            except RasaUnavailable:
                await asyncio.sleep(pause)
                continue
            log.info("assistant warmed up")
            return True
    log.warning("warm-up gave up: Rasa did not answer")
    return False
