"""Rasa's check of an action server's reply, with its schema compiled once.

Rasa 3.6 checks every custom action's reply with ``jsonschema.validate``, which first checks the
constant schema itself against JSON Schema's meta-schema and builds a new validator: three
quarters of the check's cost (py-spy on 2 cores: the check was 9.7 % of Rasa's samples on
recommendation turns, 2.5 % with this; docs/benchmarks.md §1). ``install`` replaces ``RemoteAction._validate_action_result`` with the
same check against the same schema by a validator built once; a bad reply raises the same
``ValidationError`` with Rasa's hint. Importing ``rasa_ext`` installs it in Rasa's process
(Rasa imports it for the tracker store and the NLU components); elsewhere it does nothing.
"""

from __future__ import annotations

from typing import Any

HINT = (". Failed to validate Action server response from API, make sure your response from "
        "the Action endpoint is valid. For more information about the format visit "
        "{docs}/custom-actions")


def install() -> bool:
    """Replace Rasa's reply check; False when Rasa is not importable (not Rasa's process)."""
    try:
        from jsonschema import validators
        from jsonschema.exceptions import best_match
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.constants import DOCS_BASE_URL
    except ImportError:
        return False
    if getattr(RemoteAction._validate_action_result, "compiled_once", False):
        return True
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += HINT.format(docs=DOCS_BASE_URL)
            raise error
        return True

    _validate_action_result.compiled_once = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    return True
