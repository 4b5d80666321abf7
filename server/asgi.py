"""Import target for uvicorn workers: `uvicorn server.asgi:app` (settings from the environment).

`qms serve --workers N` upgrades the schema once before it starts the workers and says so in
QMS_SCHEMA_UPGRADED, so N workers do not each load every migration again to find nothing to do."""
import os

from .app import create_app

app = create_app(migrate=os.environ.get("QMS_SCHEMA_UPGRADED") != "1")
