"""Import target for uvicorn workers: `uvicorn server.asgi:app` (settings from the environment)."""
from .app import create_app

app = create_app()
