"""`qms printer test NAME` (a test page on a configured printer) and `qms printer-agent` (the kiosk PC agent)."""
from __future__ import annotations

import argparse
from typing import Any

from ticket_printer.agent import add_arguments, run_agent  # light: the printing stack loads when used


def cmd_printer_test(args: argparse.Namespace) -> int:
    from sqlmodel import Session, select

    from ticket_printer.models import Printer
    from ticket_printer.printing import print_test_page
    from ticket_printer.transports import TransportError

    from .db import Database
    from .settings import Settings
    db = Database(Settings.load().database_url)
    try:
        def find(session: Session) -> list[Printer]:
            q = select(Printer).where(Printer.name == args.name, Printer.archived == False)  # noqa: E712
            if args.office_id:
                q = q.where(Printer.office_id == args.office_id)
            return list(session.exec(q))
        found = db.read_sync(find)
    finally:
        db.dispose()
    if not found:
        print(f"No printer named {args.name!r}; add it in the admin page or with POST /api/v1/offices/{{id}}/printers.")
        return 1
    if len(found) > 1:
        print(f"{len(found)} printers are named {args.name!r} (offices {sorted(p.office_id for p in found)}); "
              "choose one with --office-id.")
        return 1
    p = found[0]
    if p.transport == "agent":
        print(f"{p.name!r} is printed by its printer agent (device {p.address}); run the test on that PC: "
              "qms printer-agent --transport … --address … --test-page")
        return 1
    try:
        print_test_page(p.name, transport=p.transport, address=p.address, width_px=p.width_px, profile=p.profile)
    except TransportError as e:
        print(f"Printing the test page on {p.name!r} ({p.transport} {p.address}) failed: {e.message}")
        return 1
    print(f"Test page sent to {p.name!r} ({p.transport} {p.address}, {p.width_px} dots).")
    return 0


def register(sub: Any) -> None:
    printer = sub.add_parser("printer", help="printer tasks")
    tasks = printer.add_subparsers(dest="printer_command", required=True)
    test = tasks.add_parser("test", help="print a test page on a configured printer")
    test.add_argument("name", help="the printer's name as configured")
    test.add_argument("--office-id", type=int, help="when several offices have a printer of that name")
    test.set_defaults(fn=cmd_printer_test)
    agent = sub.add_parser("printer-agent", help="run the printer agent of a kiosk PC with a local printer")
    add_arguments(agent)
    agent.set_defaults(fn=run_agent)
