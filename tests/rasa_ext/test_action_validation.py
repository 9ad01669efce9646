"""rasa_ext/action_validation.py in Rasa's environment: importing rasa_ext installs the compiled
check, which accepts what Rasa's own check accepts and rejects a bad reply with Rasa's hint."""

from __future__ import annotations

from tests.rasa_ext.rasa_env import run_in_rasa

SCRIPT = r"""
import jsonschema
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

original = RemoteAction._validate_action_result
import rasa_ext  # noqa: F401  (installs the check)
assert RemoteAction._validate_action_result is not original
assert RemoteAction._validate_action_result.compiled_once

good = [{"events": [{"event": "slot", "name": "shown_ids", "value": ["P1"], "timestamp": None}],
         "responses": [{"response": "utter_products_found", "custom": {"type": "products"}}]},
        {"events": [], "responses": []}, {}]
bad = [{"events": [{"event": "no_such_event"}]}, {"events": "not a list"},
       {"responses": [1, 2]}, {"events": [{"event": "slot"}]}]
action = RemoteAction("action_recommend_products", None)
schema = RemoteAction.action_response_format_spec()
for reply in good:
    jsonschema.validate(reply, schema)  # Rasa's own check agrees
    assert action._validate_action_result(reply) is True
for reply in bad:
    try:
        jsonschema.validate(reply, schema)
    except ValidationError:
        pass
    else:
        raise AssertionError(f"Rasa's own check accepts {reply}")
    try:
        action._validate_action_result(reply)
    except ValidationError as error:
        assert "Failed to validate Action server response" in error.message, error.message
    else:
        raise AssertionError(f"accepted {reply}")
print("ok")
"""


def test_the_compiled_check_agrees_with_rasas(tmp_path) -> None:
    run_in_rasa(SCRIPT, tmp_path)
