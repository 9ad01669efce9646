"""The shared back-end objects of the action server, created lazily once and reused.

``get_services()`` returns the process-wide :class:`Services`; tests build their own with
explicit objects and install them with :func:`set_services`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from common.settings import Settings, get_settings

if TYPE_CHECKING:
    from shop.backend import ShopBackend


class Services:
    """Shop backend, recommender and FAQ index; each is built on first use (thread-safe)."""

    def __init__(
        self,
        *,
        shop: ShopBackend | None = None,
        recommender: Any = None,
        faq: Any = None,
        settings: Settings | None = None,
    ) -> None:
        self._shop, self._recommender, self._faq = shop, recommender, faq
        self.settings = settings or get_settings()
        self._lock = threading.Lock()

    def link(self, url: str | None) -> str | None:
        """A shop's path to a shopper's document, signed for the gateway (``common.links``); a
        full URL (a real shop's own document server) is left as it is."""
        if not url or not url.startswith("/"):
            return url
        from common.links import link_key, sign

        return sign(url, link_key(self.settings.link_secret, self.settings.var_dir))

    @property
    def shop(self) -> ShopBackend:
        """The shop the actions talk to: the one passed in, else ``shop.ShopData`` on
        ``Settings.shop_db_url`` (schema created, demo shop seeded when empty)."""
        if self._shop is None:
            with self._lock:
                if self._shop is None:
                    from shop import ShopData

                    self._shop = ShopData.from_settings(self.settings)
        return self._shop

    @property
    def recommender(self) -> Any:
        if self._recommender is None:
            with self._lock:
                if self._recommender is None:
                    from recommender.service import get_recommender

                    self._recommender = get_recommender()
        return self._recommender

    def built_recommender(self) -> Any:
        """The recommender if it is built already, else None: for optional help (the FAQ's
        keyword bonus) that must not start loading the store and encoder on its own."""
        return self._recommender

    @property
    def faq(self) -> Any:
        if self._faq is None:
            with self._lock:
                if self._faq is None:
                    from shop.faq import FaqIndex

                    # the active encoder, followed like the recommender's (recommender/active.py)
                    self._faq = FaqIndex.from_settings(self.settings)
        return self._faq

    def warm_up(self) -> dict[str, str]:
        """Build every service now (the action server's start, ``python -m actions``) and run one
        search, so the first shopper does not wait for the encoder to load. A part that cannot be
        built is reported and left lazy: the others still serve (store down → order flows work)."""
        from recommender.query import ConversationState

        state: dict[str, str] = {}
        for name, use in (("shop", lambda: self.shop), ("faq", lambda: self.faq),
                          ("recommender", lambda: self.recommender.recommend(
                              ConversationState(user_turns=["running shoes"]), 1))):
            try:
                use()
                state[name] = "ok"
            except Exception as exc:  # a dead dependency must not stop the server
                state[name] = f"{type(exc).__name__}: {exc}"
        return state


_services: Services | None = None
_services_lock = threading.Lock()


def get_services() -> Services:
    global _services
    if _services is None:
        with _services_lock:
            if _services is None:
                _services = Services()
    return _services


def set_services(services: Services | None) -> None:
    """Install explicit services (tests), or ``None`` to go back to the lazy defaults."""
    global _services
    _services = services
