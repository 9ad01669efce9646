"""Aisle's custom actions for Rasa (served by ``python -m rasa_sdk --actions actions``).

Thin adapters, split by topic: each reads slots, calls ``recommender`` or the shop data
through :mod:`actions.services`, and returns events. User-facing text lives in domain.yml.
"""

from common.settings import settings_or_exit

# rasa-sdk imports this package at start-up: a bad AISLE_* value stops the server there, by name
settings_or_exit()
