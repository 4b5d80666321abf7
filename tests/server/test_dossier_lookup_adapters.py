"""The look-up adapters in-process: chosen by URL, the CSV file read once and again only when it changes."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from server.dossier_lookup import LookupRegistry, LookupUnavailable
from server.dossier_lookup.csv_file import CsvLookup
from server.dossier_lookup.http import HttpLookup
from server.dossier_lookup.registry import adapter_for
from tests.support.aio import run

CODE = "000.00.12.H26-250312-0001"


def test_adapter_is_chosen_by_url(tmp_path: Path) -> None:
    assert isinstance(adapter_for("https://motcua.example.gov.vn/api/tra-cuu"), HttpLookup)
    assert isinstance(adapter_for((tmp_path / "a.csv").as_uri()), CsvLookup)
    with pytest.raises(LookupUnavailable):
        adapter_for("ftp://example/a.csv")


def test_csv_is_read_only_when_its_mtime_or_size_changes(tmp_path: Path) -> None:
    path = tmp_path / "kq.csv"
    path.write_text(f"code,status_text,ready,return_date\n{CODE},Đang xử lý,false,\n", encoding="utf-8")

    async def scenario() -> None:
        registry = LookupRegistry()
        adapter = registry.adapter(path.as_uri())
        assert isinstance(adapter, CsvLookup)
        for _ in range(5):
            found = await registry.find(path.as_uri(), CODE)
            assert found is not None and found.ready is False
        assert adapter.loads == 1, "an unchanged file is not parsed again"
        stamp = path.stat().st_mtime
        path.write_text(f"code,status_text,ready,return_date\n{CODE},Đã có kết quả,true,2025-01-02\n",
                        encoding="utf-8")
        os.utime(path, (stamp + 3, stamp + 3))
        found = await registry.find(path.as_uri(), CODE)
        assert found is not None and found.ready is True and str(found.return_date) == "2025-01-02"
        assert adapter.loads == 2
        assert registry.adapter(path.as_uri()) is adapter
        path.write_text("wrong,header\n1,2\n", encoding="utf-8")
        os.utime(path, (stamp + 6, stamp + 6))
        with pytest.raises(LookupUnavailable):
            await registry.find(path.as_uri(), CODE)
        await registry.aclose()
    run(scenario())


def test_a_large_file_is_parsed_once_however_many_ask_at_once(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = "".join(f"000.00.12.H26-250312-{i:05d},Đang xử lý,false,\n" for i in range(50_000))
    path.write_text("code,status_text,ready,return_date\n" + rows, encoding="utf-8")

    async def scenario() -> None:
        import asyncio
        adapter = CsvLookup(path.as_uri())
        found = await asyncio.gather(*(adapter.find(f"000.00.12.H26-250312-{i:05d}") for i in range(0, 50_000, 2500)))
        assert all(f is not None and f.ready is False for f in found)
        assert adapter.loads == 1
        await adapter.aclose()

        # a look-up that gives up at the deadline does not abandon the read: the next one finds it done
        impatient = LookupRegistry(deadline_s=0.01)
        with pytest.raises(LookupUnavailable):
            await impatient.find(path.as_uri(), "000.00.12.H26-250312-00007")
        for _ in range(100):
            await asyncio.sleep(0.05)
            if impatient.adapter(path.as_uri()).loads:  # type: ignore[attr-defined]
                break
        found_later = await impatient.find(path.as_uri(), "000.00.12.H26-250312-00007")
        assert found_later is not None and found_later.status_text == "Đang xử lý"
        await impatient.aclose()
    run(scenario())
