"""A dossier code as typed or scanned: trimmed, upper-cased, then held to the office's pattern.

The province's one-stop system prints the code on the receipt (DOMAIN.md, "Dossiers"); a scanner or a
finger may add spaces or lower case, so both are forgiven before the office's `dossier_code_pattern`
decides. The pattern is matched against the whole code.
"""
from __future__ import annotations

import re

from counters.errors import InvalidValue
from counters.models import DEFAULT_DOSSIER_CODE_PATTERN, Office

MAX_CODE_LEN = 64


def normalize_dossier_code(office: Office, raw: str | None, field: str = "code") -> str:
    code = (raw or "").strip().upper()
    if not code:
        raise InvalidValue("Nhập mã hồ sơ / a dossier code is required", field=field)
    if len(code) > MAX_CODE_LEN:
        raise InvalidValue(f"A dossier code has at most {MAX_CODE_LEN} characters", field=field)
    pattern = office.dossier_code_pattern or DEFAULT_DOSSIER_CODE_PATTERN
    try:
        matched = re.fullmatch(pattern, code) is not None
    except re.error:  # validated when set; a broken row must not turn into a 500
        matched = re.fullmatch(DEFAULT_DOSSIER_CODE_PATTERN, code) is not None
    if not matched:
        raise InvalidValue("Mã hồ sơ không đúng dạng / the dossier code does not have this office's shape",
                           field=field, pattern=pattern)
    return code
