"""SIGKILL in the middle of issuing and calling: nothing accepted is lost, numbers and seq continue,
and a WebSocket client that resumes with since_seq receives exactly the events it missed."""
from __future__ import annotations

import threading
import time


from tests.support.aio import run
from tests.support.load import hammer
from tests.support.server import OfficeSetup, ServerProcess, WsClient, logged


def test_sigkill_loses_nothing_and_replay_is_exact() -> None:
    server = ServerProcess().start()
    try:
        office = OfficeSetup(server)
        a = office.service("A")["id"]
        counters = [office.counter(n, [a])["id"] for n in (1, 2)]
        head = office.user("truong_crash", "head")
        for cid in counters:
            head.ok("POST", f"/api/v1/counters/{cid}/open")
        token = head.token or ""

        async def watch_until_killed() -> tuple[WsClient, int]:
            ws = await WsClient(server.ws_url, token, office.id).connect(since_seq=None)
            last = (await ws.next_event())["seq"]
            stop = threading.Event()
            accepted: list[dict] = []
            threads = [threading.Thread(target=hammer, args=(server.base_url, token, office.id, a, None, stop,
                                                              accepted)) for _ in range(3)]
            threads += [threading.Thread(target=hammer, args=(server.base_url, token, office.id, a, cid, stop,
                                                               accepted)) for cid in counters]
            for t in threads:
                t.daemon = True
                t.start()
            try:
                deadline = time.monotonic() + 2.0
                while time.monotonic() < deadline:
                    try:
                        m = await ws.next_event(0.2)
                        last = max(last, m["seq"])
                    except TimeoutError:
                        pass
                server.kill()  # mid-flight: requests are still being sent
            finally:
                stop.set()  # the load is bounded whatever happens above
                for t in threads:
                    t.join(30)
            try:
                while True:
                    m = await ws.next_event(0.5)
                    last = max(last, m.get("seq", last))
            except Exception:  # noqa: BLE001 - the socket died with the server
                pass
            watch_until_killed.accepted = accepted  # type: ignore[attr-defined]
            return ws, last

        _, last_seen = run(watch_until_killed())
        accepted: list[dict] = watch_until_killed.accepted  # type: ignore[attr-defined]
        assert len(accepted) > 10, "the load really ran before the kill"

        server.start()
        admin = server.admin()
        # every ticket that got a 201 exists, unchanged in identity
        for t in accepted:
            got = admin.ok("GET", f"/api/v1/tickets/{t['id']}")
            assert got["display_number"] == t["display_number"] and got["track_code"] == t["track_code"]
        # numbering continues without repeats
        new = admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
        assert new["number"] > max(t["number"] for t in accepted)
        all_tickets = admin.ok("GET", f"/api/v1/offices/{office.id}/tickets?limit=1000")["items"]
        numbers = [t["number"] for t in all_tickets]
        assert len(numbers) == len(set(numbers))

        async def resume() -> tuple[list[dict], list[dict]]:
            full = await WsClient(server.ws_url, admin.token, office.id).connect(since_seq=0)
            everything = await full.drain(1.0)
            await full.close()
            again = await WsClient(server.ws_url, admin.token, office.id).connect(since_seq=last_seen)
            missed = await again.drain(1.0)
            await again.close()
            return everything, missed

        everything, missed = run(resume())
        everything, missed = logged(everything), logged(missed)
        seqs = [m["seq"] for m in everything]
        assert seqs == list(range(1, len(seqs) + 1)), "seq has no holes and survives the crash"
        assert seqs[-1] > last_seen, "seq continues after the restart"
        assert missed == [m for m in everything if m["seq"] > last_seen], "exactly the missed events"
        assert any(m["type"] == "ticket.issued" and m["data"]["ticket"]["id"] == new["id"] for m in missed)
    finally:
        server.stop()
