"""Locust shoppers for `make loadtest` (tools/loadtest.py runs this file headless).

Each simulated shopper opens a conversation and chats (a search, refinements, questions) with a
think time of 3–8 s between messages: reading the reply and typing. The load grows in steps
(LOAD_STEPS shoppers, LOAD_STEP_S seconds each, tools/load_steps.py) and stops after the first
step whose p95 exceeds 1 s; the summary per step goes as JSON to the file LOAD_SUMMARY names.
"""

from __future__ import annotations

import json
import os
import time

from locust import HttpUser, LoadTestShape, between, events, task

from tools.load_steps import StepLoad

LOAD = StepLoad([int(n) for n in os.environ.get("LOAD_STEPS", "10,20,40").split(",")],
                float(os.environ.get("LOAD_STEP_S", "45")))
TURNS = [
    "show me running shoes", "under 120", "in blue", "anything cheaper?",
    "waterproof hiking boots", "what about a size 10?", "a warm wool sweater",
    "how long does shipping take?", "wireless headphones with long battery", "more like the second one",
]
started = time.monotonic()


@events.test_start.add_listener
def _started(**_: object) -> None:
    global started
    started = time.monotonic()


class Shopper(HttpUser):
    wait_time = between(3, 8)

    def on_start(self) -> None:
        self.turn = 0
        body = self.client.post("/api/conversations", name="open").json()
        self.path = f"/api/conversations/{body['conversation_id']}/messages"
        self.headers = {"Authorization": f"Bearer {body['token']}"}

    @task
    def chat(self) -> None:
        text = TURNS[self.turn % len(TURNS)]
        self.turn += 1
        begin = time.monotonic()
        with self.client.post(self.path, json={"text": text}, headers=self.headers, name="turn",
                              catch_response=True) as response:
            messages = response.json().get("messages") if response.status_code == 200 else None
            # a fallback reply (Rasa did not answer within AISLE_RASA_TIMEOUT) is a failed turn
            ok = bool(messages) and not any(m.get("fallback") for m in messages)
            if not ok:
                response.failure(f"status {response.status_code}, fallback or empty")
        LOAD.record(begin - started, (time.monotonic() - begin) * 1000, ok)


class Steps(LoadTestShape):
    def tick(self) -> tuple[int, float] | None:
        users = LOAD.users_at(self.get_run_time())
        return None if users is None else (users, max(1.0, users / 5))


@events.quitting.add_listener
def _write_summary(environment, **_: object) -> None:
    if path := os.environ.get("LOAD_SUMMARY"):
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(LOAD.summary(), handle, indent=1)
