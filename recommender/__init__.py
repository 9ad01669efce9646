"""Aisle's recommender: catalog, encoder, vector stores, query building, ranking, CLI.

Import-light on purpose: submodules load models and stores lazily.
"""
