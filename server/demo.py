"""The demo office of DOMAIN.md: five services, six counters (one do-it-now desk), a head, clerks, devices.

Seeded once (idempotent by office code); demo passwords and device tokens are printed so a person can
open every page at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from counters.engine import setup
from counters.clock import utcnow
from counters.context import Ctx, Who
from counters.models import Office

from .auth import issue_token
from .db import Database
from .models import Device, User
from .passwords import hash_password

DEMO_CODE = "DEMO"
SERVICES: list[dict[str, Any]] = [
    {"code": "A", "name": "Chứng thực", "name_en": "Certification", "desk": "do_it_now", "target_wait_min": 10,
     "target_total_min": 10},
    {"code": "B", "name": "Hộ tịch", "name_en": "Civil status (birth, marriage, death)"},
    {"code": "C", "name": "Đất đai – Xây dựng", "name_en": "Land and construction", "target_wait_min": 20},
    {"code": "D", "name": "Đăng ký kinh doanh", "name_en": "Business registration"},
    {"code": "E", "name": "Lao động – Thương binh và Xã hội", "name_en": "Labour and social affairs"},
]
# counter number, name, desk, service codes in calling order
COUNTERS = [
    (1, "Quầy 1 – Bộ phận làm ngay", "do_it_now", ["A"]),
    (2, "Quầy 2 – Hộ tịch", "standard", ["B", "E"]),
    (3, "Quầy 3 – Hộ tịch", "standard", ["B"]),
    (4, "Quầy 4 – Đất đai", "standard", ["C"]),
    (5, "Quầy 5 – Đất đai, Kinh doanh", "standard", ["C", "D"]),
    (6, "Quầy 6 – Kinh doanh, Lao động", "standard", ["D", "E", "B"]),
]
USERS = [("truongphong", "Nguyễn Văn An", "head"), ("canbo1", "Trần Thị Bình", "clerk"),
         ("canbo2", "Lê Văn Cường", "clerk"), ("canbo3", "Phạm Thị Dung", "clerk")]
DEVICES = [("kiosk", "Máy lấy số sảnh", None), ("display", "Màn hình sảnh", None),
           ("tablet", "Máy đánh giá quầy 1", 1), ("tablet", "Máy đánh giá quầy 2", 2)]
DEMO_PASSWORD = "demo1234"


@dataclass
class DemoOffice:
    office_id: int
    created: bool
    users: list[tuple[str, str, str]] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)


def seed_demo(db: Database) -> DemoOffice:
    def run(session: Session) -> DemoOffice:
        existing = session.exec(select(Office).where(Office.code == DEMO_CODE)).first()
        if existing is not None:
            return DemoOffice(existing.id or 0, False)
        now = utcnow()
        ctx = Ctx(Who.system(), now)
        office = setup.create_office(session, ctx, DEMO_CODE, "UBND Phường Ba Đình – Bộ phận Một cửa",
                                     address="Số 1 phố Mẫu, Ba Đình, Hà Nội")
        codes = {}
        for i, s in enumerate(SERVICES):
            codes[s["code"]] = setup.create_service(session, ctx, office, {**s, "sort_order": i}).id
        counters = {}
        for number, name, desk, svc in COUNTERS:
            c = setup.create_counter(session, ctx, office, {"number": number, "name": name, "desk": desk,
                                                            "service_ids": [codes[x] for x in svc]})
            counters[number] = c.id
        demo = DemoOffice(office.id or 0, True)
        for username, full_name, role in USERS:
            if session.exec(select(User).where(User.username == username)).first() is None:
                session.add(User(username=username, full_name=full_name, role=role, office_id=office.id,
                                 password_hash=hash_password(DEMO_PASSWORD), created_at=now))
                demo.users.append((username, DEMO_PASSWORD, role))
        for kind, name, counter_number in DEVICES:
            d = Device(office_id=office.id or 0, kind=kind, name=name,
                       counter_id=counters.get(counter_number) if counter_number else None, created_at=now)
            session.add(d)
            session.flush()
            token = issue_token(session, now=now, device_id=d.id)
            demo.devices.append({"kind": kind, "name": name, "id": d.id, "token": token,
                                 "counter_number": counter_number})
        return demo
    result, _ = db.write_sync(run)
    return result


def describe(demo: DemoOffice, base_url: str) -> str:
    if not demo.created:
        return f"Demo office already present (office id {demo.office_id}); staff password: {DEMO_PASSWORD}."
    lines = [f"Demo office seeded (office id {demo.office_id}). Staff logins (password {DEMO_PASSWORD}):"]
    lines += [f"  {u:<12} {role}" for u, _, role in demo.users]
    lines.append("Pre-approved devices (open these URLs on the device):")
    for d in demo.devices:
        page = {"kiosk": "kiosk", "display": "display", "tablet": "tablet", "printer": "printer"}[d["kind"]]
        lines.append(f"  {d['name']:<24} {base_url}/{page}#token={d['token']}")
    lines += [f"  Counter app:  {base_url}/counter   Dashboard: {base_url}/dashboard   Admin: {base_url}/admin"]
    return "\n".join(lines)
