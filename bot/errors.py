"""Clear JSON errors: ``{"error": "…"}`` with a 4xx status."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def response(self) -> web.Response:
        headers = {}
        if "retry_after" in self.extra:
            headers["Retry-After"] = str(max(1, round(self.extra["retry_after"])))
        return web.json_response({"error": self.message, **self.extra}, status=self.status,
                                 headers=headers)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400/413/415 ApiError."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, "That message is too large. Please send something shorter.") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ApiError(400, "The request body must be UTF-8 JSON text.") from exc
    except ValueError as exc:
        raise ApiError(400, "The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data
