"""Declaring endpoints once: route, who may call it, body and response schemas.

The same declarations build the Starlette routes, the OpenAPI document and the authorization matrix
used by the tests. Handlers are thin: parse, authorize, call `counters`, publish the events it returns.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, InterfaceError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from counters.clock import utcnow
from counters.context import Ctx
from counters.errors import QueueError

from .auth import Actor
from .errors import ApiError, from_queue_error
from .limits import loads
from .kept import keep
from .passwords import token_hash

T = TypeVar("T")
log = logging.getLogger("qms.api")
Handler = Callable[["Call"], Awaitable[Any]]

ANYONE = None  # public endpoint marker
MAX_ID = 2**63  # larger path ids cannot name a row (and would overflow the database's integer)
STAFF = frozenset({"admin", "head", "clerk"})
HEADS = frozenset({"admin", "head"})
ADMIN = frozenset({"admin"})
ALL_ACTORS = frozenset({"admin", "head", "clerk", "kiosk", "display", "tablet", "printer"})


@dataclass
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    allow: frozenset[str] | None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    tag: str = "api"
    media_type: str = "application/json"
    query: dict[str, str] = field(default_factory=dict)
    # authorize inside the handler's write transaction (one database hop instead of two); only for
    # handlers that touch `call.actor` nowhere but in the function they pass to `call.write`
    auth_in_write: bool = False


class EndpointGroup:
    """A module's endpoints; `server/routes/*.py` each define one named `endpoints`."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.items: list[Endpoint] = []

    def __call__(self, method: str, path: str, *, summary: str, allow: frozenset[str] | None,
                 body: type[BaseModel] | None = None, response: type[BaseModel] | None = None, status: int = 200,
                 media_type: str = "application/json", query: dict[str, str] | None = None,
                 auth_in_write: bool = False) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.items.append(Endpoint(method, path, fn, summary, allow, body, response, status, self.tag,
                                       media_type, query or {}, auth_in_write))
            return fn
        return register


class Call:
    """One API call as a handler sees it."""

    def __init__(self, request: Request, actor: Actor | None, body: Any,
                 authorize: Callable[[Session], Actor] | None = None) -> None:
        self.request = request
        self.actor_or_none = actor
        self.body = body
        self.qms = request.app.state.qms
        self._authorize = authorize  # still to run, first thing in the write transaction

    @property
    def actor(self) -> Actor:
        assert self.actor_or_none is not None
        return self.actor_or_none

    def param(self, name: str) -> Any:
        return self.request.path_params[name]

    def query(self, name: str, default: str | None = None) -> str | None:
        return self.request.query_params.get(name, default)

    def query_int(self, name: str, default: int, lo: int = 0, hi: int = 10**9) -> int:
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            v = int(raw)
        except ValueError:
            raise ApiError(422, "invalid_value", f"{name} must be a whole number", field=name) from None
        if not lo <= v <= hi:
            raise ApiError(422, "invalid_value", f"{name} must be between {lo} and {hi}", field=name)
        return v

    def now(self) -> datetime:
        return self.qms.clock() if self.qms.clock else utcnow()

    def ctx(self) -> Ctx:
        return Ctx(self.actor.who if self.actor_or_none else Ctx.__dataclass_fields__["who"].default,  # type: ignore[arg-type]
                   self.now(), self.qms.announcer)

    async def read(self, fn: Callable[[Session], T]) -> T:
        await self.qms.reports.caught_up()  # reports and the live view include every write answered before
        return await self.qms.db.read(self._authorized(fn))  # type: ignore[no-any-return]

    async def write(self, fn: Callable[[Session], T]) -> T:
        """Run `fn` in a write transaction and publish its events after the commit (report facts are
        folded after it by the report projector, see server/report_projector.py)."""
        qms = self.qms
        result, messages = await qms.db.write_admitted(self._authorized(fn))
        if messages:
            await qms.published(messages)
        return result  # type: ignore[no-any-return]

    def _authorized(self, fn: Callable[[Session], T]) -> Callable[[Session], T]:
        """`fn`, preceded in its transaction by the authorization still to run (if any)."""
        authorize = self._authorize
        if authorize is None:
            return fn

        def run(session: Session) -> T:
            self.actor_or_none = authorize(session)  # a refusal raises: the transaction rolls back untouched
            self._authorize = None
            return fn(session)
        return run

    @property
    def authorized(self) -> bool:
        return self._authorize is None


async def _parse_body(request: Request, model: type[BaseModel] | None) -> Any:
    if model is None:
        return None
    raw = await request.body()
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = [{"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]}
                    for err in e.errors()]
        raise ApiError(422, "invalid_value", f"{problems[0]['field']}: {problems[0]['message']}",
                       errors=problems) from None


def _scoped_models() -> dict[str, type[Any]]:
    """Path parameters that name a row of some office: checked before the body (403/404 before 422)."""
    from counters.models import Counter, Office, Service, Ticket
    from ticket_printer.models import Printer, PrintJob

    from .models import Device, User
    from .webhook_models import Webhook, WebhookDelivery
    return {"office_id": Office, "service_id": Service, "counter_id": Counter, "ticket_id": Ticket,
            "user_id": User, "device_id": Device, "printer_id": Printer, "job_id": PrintJob,
            "webhook_id": Webhook, "delivery_id": WebhookDelivery}


def check_scope(session: Session, actor: Actor, params: dict[str, Any], read_only: bool) -> None:
    from .auth import may_access_office
    for name, model in _scoped_models().items():
        if name not in params:
            continue
        row = keep(session, session.get(model, params[name]))  # the handler reads it next
        office_id = params[name] if name == "office_id" else getattr(row, "office_id", None)
        if office_id is not None and (row is not None or name == "office_id") \
                and not may_access_office(session, actor, office_id, read_only=read_only):
            raise ApiError(403, "forbidden", "That belongs to an office you may not act on.")
        if row is None or getattr(row, "archived", False):
            raise ApiError(404, "not_found", f"{model.__name__} {params[name]} does not exist.")


def authorize(session: Session, actor: Actor, ep: Endpoint, params: dict[str, Any]) -> Actor:
    """Role, then the rows the path names (403/404), all before the body is read (422 comes after)."""
    if ep.allow and actor.kind not in ep.allow:
        raise ApiError(403, "forbidden", f"A {actor.kind} may not do this.", actor=actor.kind)
    if any(isinstance(v, int) and not 0 <= v < MAX_ID for v in params.values()):
        raise ApiError(404, "not_found", "No such row.")
    if params:
        check_scope(session, actor, params, ep.method == "GET")
    return actor


class KnownTokens:
    """Tokens that authorized in this worker lately: only those are checked inside the write transaction.

    A routing hint, not a cache of rights: the whole check still runs, in the transaction. A token not
    seen yet is checked on a reader first, so a flood of bad tokens never queues on the writer.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, token: str) -> bool:
        return token_hash(token) in self._seen

    def add(self, token: str) -> None:
        key = token_hash(token)
        self._seen[key] = None
        self._seen.move_to_end(key)
        if len(self._seen) > self.limit:
            self._seen.popitem(last=False)

    def discard(self, token: str) -> None:
        self._seen.pop(token_hash(token), None)


def make_route(ep: Endpoint) -> Route:
    async def endpoint(request: Request) -> Response:
        try:
            actor = None
            if ep.method != "GET":
                request.app.state.qms.db.admit_write()
            check: Callable[[Session], Actor] | None = None
            if ep.allow is not ANYONE:
                qms = request.app.state.qms
                token, params = qms.request_token(request), dict(request.path_params)

                def check(s: Session) -> Actor:
                    try:
                        return authorize(s, qms.token_actor(s, token), ep, params)
                    except ApiError as e:
                        if e.status == 401:  # revoked or expired: back to the reader for this token
                            qms.known_tokens.discard(token)
                        raise
                if not (ep.auth_in_write and token in qms.known_tokens):
                    actor, check = await qms.db.read(check), None
                    qms.known_tokens.add(token)
            try:
                body = await _parse_body(request, ep.body)
            except ApiError:
                if check is not None:  # 401/403/404 still come before 422
                    await request.app.state.qms.db.read(check)
                raise
            call = Call(request, actor, body, check)
            result = await ep.handler(call)
            if not call.authorized:  # a handler marked auth_in_write must read or write through `call`
                raise RuntimeError(f"{ep.method} {ep.path} answered without authorizing its caller")
        except QueueError as e:
            return from_queue_error(e)
        except (OverflowError, DataError) as e:
            return from_queue_error(ApiError(422, "out_of_range", f"A number is out of range: {type(e).__name__}"))
        except (OperationalError, InterfaceError, PoolTimeout) as e:
            log.error("database unavailable on %s %s: %s", request.method, request.url.path, type(e).__name__)
            return from_queue_error(ApiError(503, "database_unavailable", "The database is not answering; "
                                             "nothing was changed. Try again shortly.", retry=True))
        except StatementError as e:
            if isinstance(e.orig, OverflowError):
                return from_queue_error(ApiError(422, "out_of_range", "A number is out of range."))
            raise
        if isinstance(result, Response):
            return result
        return JSONResponse(result, status_code=ep.status)

    return Route(ep.path, endpoint, methods=[ep.method], name=f"{ep.method} {ep.path}")


def page(items: list[Any], total: int) -> dict[str, Any]:
    return {"items": items, "total": total}
