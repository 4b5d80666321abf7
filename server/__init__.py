"""The network edge: the ASGI app, auth, the WebSocket hub, settings, database, pub/sub, the CLI."""
__version__ = "0.1.0"
