"""Warm the assistant up once at gateway start, so the first shopper does not wait for it.

The action server loads the encoder, the vector store and the FAQ index on first use (rasa-sdk
has no startup hook). One search turn from a throw-away sender, sent as soon as Rasa answers,
does that loading before a shopper arrives.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

import aiohttp

log = logging.getLogger(__name__)
WARM_UP_TEXT = "show me running shoes"


async def warm_up(rasa_url: str, attempts: int = 120, pause: float = 1.0) -> bool:
    """Send one search turn to Rasa once it is up; True when it answered."""
    sender = f"aisle-warm-up-{secrets.token_hex(4)}"
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for _ in range(attempts):
            try:
                async with session.post(
                    f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": WARM_UP_TEXT}
                ) as response:
                    if response.status == 200:
                        await response.read()
                        log.info("assistant warmed up")
                        return True
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(pause)
    log.warning("warm-up gave up: Rasa did not answer")
    return False
