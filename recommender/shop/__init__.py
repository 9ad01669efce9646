"""Former home of the customer-service package, kept only so ``python -m recommender.shop …``
(used by outside measurement scripts, e.g. convbench's "reset the shop") keeps working; the
code lives in ``shop/`` (``python -m shop``)."""
