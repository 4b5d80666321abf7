"""The province's result look-up (tra cứu kết quả), spoken to through a small adapter chosen by URL."""
from .base import DossierStatus, LookupUnavailable, ResultLookup
from .registry import LookupRegistry

__all__ = ["DossierStatus", "LookupRegistry", "LookupUnavailable", "ResultLookup"]
