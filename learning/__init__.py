"""Learning from logged chats: export (redacted), review, retrain, gate, promote, roll back.

Command line: ``python -m learning {export,review,retrain,rollback,status}``.
"""
