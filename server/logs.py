"""Keep secrets out of logs: tokens in URLs (`?token=`), tracking codes, bearer headers, password fields and
chip ID card QR texts are redacted on every handler, whatever library wrote the line (uvicorn, websockets in
debug mode, our own)."""
from __future__ import annotations

import logging
import re

_PATTERNS = [
    (re.compile(r"(token=)[^&\s\"']+", re.I), r"\1[redacted]"),
    (re.compile(r"(bearer\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\1[redacted]"),
    (re.compile(r"(\"?(?:password|token)\"?\s*[:=]\s*\"?)[^\"\s,}]+", re.I), r"\1[redacted]"),
    (re.compile(r"(qms_token=|qms_csrf=)[^;\s]+", re.I), r"\1[redacted]"),
    # a tracking code is the key to a citizen's ticket: `?track=`, `/t/<code>`, `/api/v1/track/<code>`
    (re.compile(r"(track=)[^&\s\"']+", re.I), r"\1[redacted]"),
    (re.compile(r"((?:^|[\s\"'])/t/|/api/v1/track/)[A-Za-z0-9_-]+"), r"\1[redacted]"),
    # a chip ID card's QR (number|old id|name|born|sex|address|issued), should any library ever echo one
    (re.compile(r"\d{12}\|\d{0,9}\|[^|\n]{0,120}\|\d{8}\|[^|\n]{0,20}\|[^|\n]{0,250}\|\d{8}"), "[id card redacted]"),
]


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is left alone
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_redaction() -> None:
    """Attach the filter to every handler that exists now (call after uvicorn configured logging)."""
    flt = RedactSecrets()
    loggers = [logging.getLogger()] + [lg for lg in logging.root.manager.loggerDict.values()
                                       if isinstance(lg, logging.Logger)]
    for lg in loggers:
        for h in lg.handlers:
            if not any(isinstance(f, RedactSecrets) for f in h.filters):
                h.addFilter(flt)
