"""Rasa-side extensions, loaded by Rasa itself: NLU components (config.yml), the tracker store
(endpoints.yml), the action-reply check compiled once (action_validation.py) and kept-alive
connections to the action server (action_client.py), both installed on import."""

from rasa_ext.action_client import install as _install_action_client
from rasa_ext.action_validation import install as _install_action_validation

_install_action_validation()
_install_action_client()
