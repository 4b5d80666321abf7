"""Settings: one table of name, default and help; read from the environment and an optional TOML file.

`QMS_CONFIG` (or `<data dir>/qms.toml`) may hold the same names in lower case without the prefix;
the environment wins over the file.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("QMS_DATA_DIR", "./data", "Folder for the SQLite database, audio cache and secrets."),
    Setting("QMS_DATABASE_URL", None, "SQLAlchemy URL: sqlite:///path or postgresql://… (psycopg 3). "
            "Default: an SQLite file qms.sqlite3 in the data folder."),
    Setting("QMS_REDIS_URL", None, "redis://host:6379/0 to fan events out across workers and hosts; "
            "unset = in-process pub/sub (one process)."),
    Setting("QMS_ADMIN_PASSWORD", None, "Creates user admin with this password on first start; if unset a "
            "random one is generated and printed once."),
    Setting("QMS_SECRET_KEY", None, "Secret for signing; generated into the data folder when unset."),
    Setting("QMS_VOICE", None, "Speech backend: espeak | pyttsx3 | clips | off. Default: espeak where "
            "espeak-ng is installed, else pyttsx3 where it works, else off."),
    Setting("QMS_CLIPS_DIR", None, "Folder of a recorded clip pack (QMS_VOICE=clips)."),
    Setting("QMS_PING_INTERVAL_S", 15.0, "Seconds between WebSocket pings; a device that misses two is offline."),
    Setting("QMS_TOKEN_TTL_H", 12.0, "Hours a staff login token stays valid."),
    Setting("QMS_PAIRING_TTL_S", 600.0, "Seconds a device pairing code stays valid."),
    Setting("QMS_PUBLIC_URL", None, "Base URL printed on tickets' QR codes, e.g. http://192.168.1.10:8000; "
            "default: the address the kiosk used."),
    Setting("QMS_LOG_LEVEL", "info", "Log level: debug, info, warning, error."),
    Setting("QMS_WORKERS", 1, "uvicorn worker processes for `qms serve` (PostgreSQL + Redis for more than 1)."),
    Setting("QMS_WEBHOOK_RETRY_BASE_S", 10.0, "Webhooks: delay before the first retry of a failed delivery; it "
            "doubles with each attempt (with jitter) up to QMS_WEBHOOK_RETRY_MAX_S."),
    Setting("QMS_WEBHOOK_RETRY_MAX_S", 3600.0, "Webhooks: the longest delay between two attempts."),
    Setting("QMS_WEBHOOK_GIVE_UP_S", 86400.0, "Webhooks: a delivery is retried for at least this long (24 h), "
            "then marked failed and an alert is raised."),
    Setting("QMS_WEBHOOK_HOSTS", None, "Webhooks: comma-separated host names or addresses that webhook URLs "
            "may point to (e.g. the province's one-stop server); unset = any host."),
    Setting("QMS_WEBHOOK_TIMEOUT_S", 10.0, "Webhooks: a receiver that has not answered in this time has failed "
            "that attempt."),
    Setting("QMS_REPORT_FOLD_BATCH", 200, "Report projector: events folded into the report facts per "
            "transaction (catching up after a restart takes as many batches as needed)."),
    Setting("QMS_REPORT_FOLD_PAUSE_S", 0.0, "Testing only: the report projector holds each batch's "
            "transaction open this long before committing, so a test can kill it in the middle of a batch."),
)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./data")
    database_url: str = ""
    redis_url: str | None = None
    admin_password: str | None = None
    secret_key: str | None = None
    voice: str | None = None
    clips_dir: Path | None = None
    ping_interval_s: float = 15.0
    token_ttl_h: float = 12.0
    pairing_ttl_s: float = 600.0
    public_url: str | None = None
    log_level: str = "info"
    workers: int = 1
    webhook_retry_base_s: float = 10.0
    webhook_retry_max_s: float = 3600.0
    webhook_give_up_s: float = 86400.0
    webhook_timeout_s: float = 10.0
    webhook_hosts: str | None = None
    report_fold_batch: int = 200
    report_fold_pause_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if env is None else env)
        file_values: dict[str, Any] = {}
        config = env.get("QMS_CONFIG")
        data_dir = Path(env.get("QMS_DATA_DIR") or overrides.get("data_dir") or "./data")
        path = Path(config) if config else data_dir / "qms.toml"
        if path.is_file():
            file_values = {k.lower(): v for k, v in tomllib.loads(path.read_text("utf-8")).items()}
        values: dict[str, Any] = {}
        names = {f.name for f in fields(cls)}
        for s in SETTINGS:
            key = s.name.removeprefix("QMS_").lower()
            raw = env.get(s.name, file_values.get(key, s.default))
            if key in names and raw is not None:
                values[key] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["data_dir"] = Path(values.get("data_dir", data_dir))
        if values.get("clips_dir"):
            values["clips_dir"] = Path(values["clips_dir"])
        for key, kind in (("ping_interval_s", float), ("token_ttl_h", float), ("pairing_ttl_s", float),
                          ("workers", int), ("webhook_retry_base_s", float), ("webhook_retry_max_s", float),
                          ("webhook_give_up_s", float), ("webhook_timeout_s", float),
                          ("report_fold_batch", int), ("report_fold_pause_s", float)):
            if key in values:
                values[key] = kind(values[key])
        if not values.get("database_url"):
            values["database_url"] = f"sqlite:///{(values['data_dir'] / 'qms.sqlite3').resolve()}"
        return cls(**values)
