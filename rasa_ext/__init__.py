"""Rasa-side extensions, loaded by Rasa itself: NLU components (config.yml), the tracker store
(endpoints.yml), and, installed on import: the action-reply check compiled once
(action_validation.py), kept-alive connections to the action server (action_client.py) and a
timing line per turn (turn_timing.py)."""

from rasa_ext.action_client import install as _install_action_client
from rasa_ext.action_validation import install as _install_action_validation
from rasa_ext.turn_timing import install as _install_turn_timing

_install_action_validation()
_install_action_client()
_install_turn_timing()
