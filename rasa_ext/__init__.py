"""Rasa-side extensions, loaded by Rasa itself: NLU components (config.yml), the tracker store
(endpoints.yml), and the action-reply check compiled once (installed on import, see
action_validation.py)."""

from rasa_ext.action_validation import install as _install_action_validation

_install_action_validation()
