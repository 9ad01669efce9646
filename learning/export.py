"""Export one time window of logged chats into training material (redacted before writing).

Steps:

1. read the gateway's conversations, messages and feedback events for the window, and the
   Rasa trackers of the same conversations (HTTP API or SQL tracker store);
2. NLU candidates: every typed shopper message with Rasa's predicted intent, confidence and
   entities; flagged for review when the confidence is low, the fallback fired, it preceded a
   handoff, or only an agent answered it (the agent's reply is attached);
3. retrieval pairs: the conversation's search text for each product list, positives = clicked,
   added to cart or liked products, hard negatives = disliked ones and the shown ones ranked
   above a positive but skipped; written as JSON Lines for :class:`recommender.pairs.LoggedPairs`;
   the newest conversations (temporal split) become held-out judgments (TREC-like TSV) instead;
4. test stories from conversations that ended well (goal reached, no handoff, no fallback);
5. ``manifest.json`` with the window, counts and redaction counts.

Output folder: ``<out>/<UTC timestamp>/`` (default ``var/training/exports/``).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from learning.rasa_format import annotate
from learning.redact import PERSONAL_SLOTS, Redactor
from learning.sources import GatewayLogs, Trackers, Window, iso_to_dt

LOW_CONFIDENCE = 0.6
FALLBACK_INTENTS = {"nlu_fallback", "out_of_scope"}
FALLBACK_ACTIONS = {"action_default_fallback", "action_two_stage_fallback"}
HANDOFF_ACTIONS = {"action_handoff", "action_handle_complaint"}
SEARCH_INTENTS = {"search_product"}
CONTEXT_INTENTS = {"search_product", "refine_search", "inform"}
GOOD_END_INTENTS = {"thank", "goodbye", "affirm"}
POSITIVE_GRADES = {"add_to_cart": 2, "like": 2, "click": 1}
MAX_NEGATIVES = 5
SKIP_EVENTS = {"action_listen", "action_session_start", "action_unlikely_intent"}


@dataclass
class UserTurn:
    text: str
    intent: str | None
    confidence: float | None
    entities: list[dict[str, Any]]
    ranking: list[dict[str, Any]]
    time: float | None
    actions: list[str] = field(default_factory=list)  # bot actions until the next user turn
    handoff: bool = False


def user_turns(events: list[dict[str, Any]]) -> list[UserTurn]:
    """Shopper turns of a tracker, each with the actions the bot ran after it."""
    turns: list[UserTurn] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            turns.append(UserTurn(
                text=event.get("text") or "",
                intent=intent.get("name"),
                confidence=intent.get("confidence"),
                entities=list(parse.get("entities") or []),
                ranking=[{"name": r.get("name"), "confidence": r.get("confidence")}
                         for r in (parse.get("intent_ranking") or [])[:3]],
                time=event.get("timestamp"),
            ))
        elif turns and kind == "action" and event.get("name") not in SKIP_EVENTS:
            turns[-1].actions.append(event["name"])
            if event["name"] in HANDOFF_ACTIONS:
                turns[-1].handoff = True
        elif turns and kind == "slot" and event.get("name") == "handoff_requested" and event.get("value"):
            turns[-1].handoff = True
    return turns


def personal_values(events: list[dict[str, Any]], redactor: Redactor) -> list[tuple[str, str]]:
    """Every value a personal slot (email, shipping address, name …) ever took in a tracker."""
    values: dict[str, str] = {}
    for event in events:
        if event.get("event") == "slot" and event.get("name") in PERSONAL_SLOTS:
            values.update(redactor.known_values({event["name"]: event.get("value")}))
    return list(values.items())


def is_payload(text: str) -> bool:
    return text.startswith("/")


# ---------------------------------------------------------------- NLU candidates
def nlu_candidates(conv: dict[str, Any], turns: list[UserTurn], redactor: Redactor,
                   known: list[tuple[str, str]], threshold: float) -> list[dict[str, Any]]:
    messages = conv["messages"]
    agent_replies = [m for m in messages if m.get("sender") == "agent"]
    out: list[dict[str, Any]] = []
    for index, turn in enumerate(turns):
        if is_payload(turn.text) or not turn.text.strip():
            continue  # button payloads carry their intent: nothing to learn
        flags = []
        if turn.confidence is not None and turn.confidence < threshold:
            flags.append("low_confidence")
        if turn.intent in FALLBACK_INTENTS or any(a in FALLBACK_ACTIONS for a in turn.actions):
            flags.append("fallback")
        if turn.handoff or (index + 1 < len(turns) and turns[index + 1].handoff
                            and turns[index + 1].intent in ("affirm", None)):
            flags.append("pre_handoff")
        text, entities = redactor.redact_entities(turn.text, turn.entities, known)
        candidate = {
            "conversation_id": conv["conversation_id"],
            "time": _iso(turn.time),
            "text": text,
            "intent": turn.intent,
            "confidence": None if turn.confidence is None else round(float(turn.confidence), 4),
            "ranking": turn.ranking,
            "entities": entities,
            "actions": turn.actions,
            "flags": flags,
        }
        if "pre_handoff" in flags:
            reply = _first_after(agent_replies, turn.time)
            if reply:
                candidate["agent_reply"] = redactor.redact(reply.get("text", ""), known)
        out.append(candidate)
    # shopper messages Rasa never saw (an agent held the conversation): the agent's answer is the label hint
    for i, message in enumerate(messages):
        if message.get("sender") != "shopper" or message.get("delivered", True):
            continue
        text = message.get("text") or ""
        if not text.strip() or is_payload(text):
            continue
        reply = next((m for m in messages[i + 1:] if m.get("sender") == "agent"), None)
        if reply is None:
            continue  # Rasa timed out and no human answered: nothing reveals the intent
        out.append({
            "conversation_id": conv["conversation_id"], "time": message.get("time"),
            "text": redactor.redact(text, known), "intent": None, "confidence": None, "ranking": [],
            "entities": [], "actions": [], "flags": ["agent_answered"],
            "agent_reply": redactor.redact(reply.get("text", ""), known),
        })
    for candidate in out:
        candidate["id"] = candidate_id(candidate)
    return out


def candidate_id(candidate: dict[str, Any]) -> str:
    import hashlib

    key = f"{candidate['conversation_id']}|{candidate.get('time')}|{candidate['text']}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _first_after(messages: list[dict[str, Any]], when: float | None) -> dict[str, Any] | None:
    for message in messages:
        t = iso_to_dt(message.get("time"))
        if when is None or (t and t.timestamp() >= when):
            return message
    return None


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------- retrieval pairs
def search_text(query: str | None, turns: list[UserTurn]) -> str | None:
    """The conversation's search text for a product list shown in answer to ``query``.

    A refinement ("under 80") or a "show more" joins the turns back to the last new search.
    """
    if not query:
        return None
    at = max((i for i, t in enumerate(turns) if t.text == query), default=None)
    if at is None:
        return None if is_payload(query) else query
    parts: list[str] = []
    for turn in reversed(turns[: at + 1]):
        if turn.intent in CONTEXT_INTENTS and not is_payload(turn.text):
            parts.append(turn.text)
            if turn.intent in SEARCH_INTENTS:
                break
        elif parts or turn.intent not in ("show_more", None) and not is_payload(turn.text):
            break
    if not parts:
        return None if is_payload(query) else query
    return " ".join(reversed(parts))


def retrieval_pairs(conv: dict[str, Any], feedback: list[dict[str, Any]], turns: list[UserTurn],
                    redactor: Redactor, known: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """One record per positive product of each product list the shopper reacted to."""
    by_list: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for event in feedback:
        if event.get("products_message_id") is not None and event.get("shown"):
            by_list[event["products_message_id"]].append(event)
    out = []
    for events in by_list.values():
        shown = [str(p) for p in events[0]["shown"]]
        text = search_text(events[0].get("query"), turns) if turns else events[0].get("query")
        if not text or is_payload(text):
            continue
        grades: dict[str, int] = {}
        disliked: list[str] = []
        for event in events:
            pid, kind = event.get("product_id"), event.get("type")
            if not pid:
                continue
            if kind == "rating" and isinstance(event.get("value"), int | float):
                kind = "like" if event["value"] >= 4 else "dislike" if event["value"] <= 2 else None
            if kind in POSITIVE_GRADES:
                grades[pid] = max(grades.get(pid, 0), POSITIVE_GRADES[kind])
            elif kind == "dislike":
                disliked.append(pid)
        for pid in disliked:
            grades.pop(pid, None)  # a later dislike cancels a click
        if not grades:
            continue
        lowest = max(shown.index(p) for p in grades if p in shown) if any(p in shown for p in grades) else -1
        skipped = [p for p in shown[: lowest + 1] if p not in grades and p not in disliked]
        negatives = list(dict.fromkeys(disliked + skipped))[:MAX_NEGATIVES]
        query = redactor.redact(text, known)
        time = min(e.get("time") or "" for e in events) or None
        for pid, grade in grades.items():
            out.append({"query": query, "positive": pid, "negatives": negatives, "grade": grade,
                        "shown": shown, "conversation_id": conv["conversation_id"], "time": time})
    return out


# ---------------------------------------------------------------- test stories
def ended_well(conv: dict[str, Any], turns: list[UserTurn], feedback: list[dict[str, Any]]) -> bool:
    if not turns or any(t.handoff for t in turns):
        return False
    if any(m.get("type") == "handoff" or m.get("sender") == "agent" for m in conv["messages"]):
        return False
    if any(t.intent in FALLBACK_INTENTS or set(t.actions) & FALLBACK_ACTIONS for t in turns):
        return False
    goal = any(e.get("type") == "add_to_cart" for e in feedback) or any(
        t.intent == "add_to_cart" or "action_add_to_cart" in t.actions for t in turns)
    return goal or turns[-1].intent in GOOD_END_INTENTS


def story_steps(events: list[dict[str, Any]], redactor: Redactor,
                known: list[tuple[str, str]]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            text = event.get("text") or ""
            intent = (parse.get("intent") or {}).get("name")
            if not intent:
                continue
            if is_payload(text):
                steps.append({"intent": intent})
                continue
            clean, entities = redactor.redact_entities(text, list(parse.get("entities") or []), known)
            steps.append({"user": annotate(clean, entities), "intent": intent})
        elif kind == "action" and event.get("name") not in SKIP_EVENTS:
            steps.append({"action": event["name"]})
        elif kind == "active_loop":
            steps.append({"active_loop": event.get("name")})
    return steps


# ---------------------------------------------------------------- the export
@dataclass
class ExportResult:
    folder: Path
    manifest: dict[str, Any]


def export(logs: GatewayLogs, trackers: Trackers | None, out_dir: Path, window: Window | None = None,
           holdout: float = 0.2, threshold: float = LOW_CONFIDENCE,
           redactor: Redactor | None = None) -> ExportResult:
    redactor = redactor or Redactor()
    window = window or Window()
    conversations = [c for c in logs.transcripts() if window.contains(iso_to_dt(c.get("created_at")))]
    conversations.sort(key=lambda c: c.get("created_at") or "")
    ids = {c["conversation_id"] for c in conversations}
    feedback: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in logs.feedback():
        if event.get("conversation_id") in ids:
            feedback[event["conversation_id"]].append(event)
    tracker_events = trackers.events(sorted(ids)) if trackers else {}

    candidates: list[dict[str, Any]] = []
    pairs_by_conv: list[list[dict[str, Any]]] = []
    stories: list[dict[str, Any]] = []
    for conv in conversations:
        cid = conv["conversation_id"]
        events = tracker_events.get(cid) or []
        turns = user_turns(events)
        texts = [m.get("text") or "" for m in conv["messages"] if m.get("sender") == "shopper"]
        known = personal_values(events, redactor) + redactor.names_in(texts + [t.text for t in turns])
        candidates += nlu_candidates(conv, turns, redactor, known, threshold)
        pairs = retrieval_pairs(conv, feedback[cid], turns, redactor, known)
        if pairs:
            pairs_by_conv.append(pairs)
        if ended_well(conv, turns, feedback[cid]):
            steps = story_steps(events, redactor, known)
            if any("user" in s or "intent" in s for s in steps):
                stories.append({"story": f"logged {cid[:12]}", "steps": steps})

    # temporal split: the newest conversations with pairs are held out for evaluation
    n_heldout = math.ceil(len(pairs_by_conv) * holdout) if holdout > 0 and len(pairs_by_conv) > 1 else 0
    train_convs = pairs_by_conv[: len(pairs_by_conv) - n_heldout]
    held_convs = pairs_by_conv[len(pairs_by_conv) - n_heldout:]

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = Path(out_dir) / stamp
    staging = Path(out_dir) / f".{stamp}.partial"
    (staging / "heldout").mkdir(parents=True, exist_ok=True)
    _jsonl(staging / "nlu_candidates.jsonl", candidates)
    _jsonl(staging / "pairs.jsonl", [p for c in pairs_by_conv for p in c])
    _jsonl(staging / "pairs.train.jsonl", [p for c in train_convs for p in c])
    n_queries = _judgments(staging / "heldout", held_convs)
    (staging / "test_stories.yml").write_text(
        "# Test stories from logged conversations that ended well (redacted). Review before\n"
        "# copying into tests/test_stories.yml.\n"
        + yaml.safe_dump({"version": "3.1", "stories": stories}, sort_keys=False, allow_unicode=True, width=120),
        encoding="utf-8")
    manifest = {
        "created_utc": stamp,
        "window": window.to_dict(),
        "conversations": len(conversations),
        "with_tracker": sum(1 for c in conversations if tracker_events.get(c["conversation_id"])),
        "nlu_candidates": len(candidates),
        "flagged": sum(1 for c in candidates if c["flags"]),
        "flags": {f: sum(1 for c in candidates if f in c["flags"])
                  for f in ("low_confidence", "fallback", "pre_handoff", "agent_answered")},
        "pairs": sum(len(c) for c in pairs_by_conv),
        "pairs_train": sum(len(c) for c in train_convs),
        "heldout_conversations": len(held_convs),
        "heldout_queries": n_queries,
        "test_stories": len(stories),
        "redacted": dict(redactor.counts),
        "low_confidence_threshold": threshold,
        "temporal_holdout": holdout,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    staging.rename(folder)
    return ExportResult(folder, manifest)


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _judgments(folder: Path, held_convs: list[list[dict[str, Any]]]) -> int:
    """queries.tsv / qrels.tsv (docs/architecture.md §3.2) from the held-out conversations' product lists, and
    shown.tsv: every product the shopper saw for that query (``query_id, product_id, position``),
    so that an encoder can be judged on reordering what was shown (``JudgedSet.shown``)."""
    queries: dict[tuple[str, str], dict[str, int]] = {}
    shown: dict[tuple[str, str], list[str]] = {}
    for pairs in held_convs:
        for pair in pairs:
            key = (pair["conversation_id"], pair["query"])
            grades = queries.setdefault(key, {})
            grades[pair["positive"]] = max(grades.get(pair["positive"], 0), pair["grade"])
            seen = shown.setdefault(key, [])
            seen += [p for p in pair.get("shown") or [] if p not in seen]
    with (folder / "queries.tsv").open("w", encoding="utf-8") as q, \
            (folder / "qrels.tsv").open("w", encoding="utf-8") as r, \
            (folder / "shown.tsv").open("w", encoding="utf-8") as s:
        for n, (key, grades) in enumerate(queries.items(), 1):
            qid = f"L{n:05d}"
            q.write(f"{qid}\t{' '.join(key[1].split())}\n")
            for pid, grade in grades.items():
                r.write(f"{qid}\t{pid}\t{grade}\n")
            for position, pid in enumerate(shown[key], 1):
                s.write(f"{qid}\t{pid}\t{position}\n")
    return len(queries)


def latest_export(out_dir: Path) -> Path | None:
    folders = [p for p in Path(out_dir).glob("*") if p.is_dir() and not p.name.startswith(".")
               and (p / "manifest.json").exists()]
    return max(folders, key=lambda p: p.name) if folders else None
