"""rasa_ext/action_client.py in Rasa's environment: importing rasa_ext makes Rasa's endpoint
requests reuse one kept-alive connection, with Rasa's own request code, token and errors."""

from __future__ import annotations

from tests.rasa_ext.rasa_env import run_in_rasa

SCRIPT = r"""
import asyncio

from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

import rasa_ext  # noqa: F401  (installs the kept-alive sessions)

peers, tokens = [], []


async def webhook(request):
    peers.append(request.transport.get_extra_info("peername"))
    tokens.append(request.query.get("token"))
    body = await request.json()
    if body.get("fail"):
        return web.json_response({"error": "no"}, status=400)
    return web.json_response({"echo": body["n"]})


async def main():
    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", token="secret")
    for n in range(3):
        assert await endpoint.request(json={"n": n}, method="post", timeout=10) == {"echo": n}
    try:
        await endpoint.request(json={"fail": True}, method="post")
    except ClientResponseError as error:
        assert error.status == 400
    else:
        raise AssertionError("a 400 reply was not raised")
    assert tokens == ["secret"] * 4, tokens
    assert len(set(peers)) == 1, peers  # one connection for every request
    await runner.cleanup()


asyncio.run(main())
print("ok")
"""


def test_endpoint_requests_share_one_kept_alive_connection(tmp_path) -> None:
    run_in_rasa(SCRIPT, tmp_path)
