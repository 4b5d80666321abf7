"""Login, logout, and staff users of an office."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select
from starlette.responses import JSONResponse

from ..api import ANYONE, HEADS, STAFF, ALL_ACTORS, Call, EndpointGroup, page
from ..auth import issue_token, require_office, revoke_tokens
from ..errors import ApiError
from ..lookup import load
from ..models import User
from ..passwords import hash_password, verify_password
from ..schemas import Empty, ListOut, LoginBody, LoginOut, OkOut, UserCreate, UserOut, UserPatch

endpoints = EndpointGroup("auth")
COOKIE = "qms_token"
CSRF_COOKIE = "qms_csrf"


def user_view(u: User) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "full_name": u.full_name, "role": u.role,
            "office_id": u.office_id, "active": u.active}


@endpoints("POST", "/api/v1/auth/login", summary="Log in as staff; returns a bearer token (also set as an "
           "HttpOnly cookie with a CSRF cookie)", allow=ANYONE, body=LoginBody, response=LoginOut)
async def login(call: Call) -> Any:
    body: LoginBody = call.body
    client = call.request.client.host if call.request.client else "?"
    per_user = f"{body.username.lower()}|{client}"
    await call.qms.login_address_throttle.check(client)  # even the right password waits, or spraying finds it
    await call.qms.login_throttle.check(per_user)
    now = call.now()

    def check(session: Session) -> dict[str, Any] | None:
        user = session.exec(select(User).where(User.username == body.username)).first()
        if user is None or not user.active or not verify_password(user.password_hash, body.password):
            return None
        token = issue_token(session, now=now, user_id=user.id,
                            ttl=timedelta(hours=call.qms.settings.token_ttl_h))
        return {"token": token, "user": user_view(user)}

    result = await call.write(check)
    if result is None:
        await call.qms.login_throttle.fail(per_user)
        await call.qms.login_address_throttle.fail(client)
        raise ApiError(401, "bad_credentials", "Wrong username or password.")
    response = JSONResponse(result)
    secure = call.request.url.scheme == "https"
    response.set_cookie(COOKIE, result["token"], httponly=True, samesite="strict", secure=secure,
                        max_age=int(call.qms.settings.token_ttl_h * 3600))
    response.set_cookie(CSRF_COOKIE, call.qms.csrf_token(result["token"]), httponly=False, samesite="strict",
                        secure=secure, max_age=int(call.qms.settings.token_ttl_h * 3600))
    return response


@endpoints("POST", "/api/v1/auth/logout", summary="Revoke the current token", allow=ALL_ACTORS, body=Empty,
           response=OkOut)
async def logout(call: Call) -> Any:
    token_id = call.actor.token_id
    await call.write(lambda s: revoke_tokens(s, token_id=token_id))
    await call.qms.close_token(token_id)
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@endpoints("GET", "/api/v1/auth/me", summary="Who the token belongs to", allow=ALL_ACTORS, response=UserOut)
async def me(call: Call) -> Any:
    a = call.actor
    return {"id": a.id, "kind": a.kind, "role": a.kind, "username": a.name, "full_name": a.name,
            "office_id": a.office_id, "counter_id": a.counter_id, "printer_id": a.printer_id}


@endpoints("GET", "/api/v1/offices/{office_id:int}/users", summary="Staff users of an office", allow=HEADS,
           response=ListOut)
async def list_users(call: Call) -> Any:
    office_id = call.param("office_id")

    def run(session: Session) -> dict[str, Any]:
        require_office(session, call.actor, office_id)
        users = session.exec(select(User).where(col(User.office_id) == office_id).order_by(col(User.id))).all()
        return page([user_view(u) for u in users], len(users))
    return await call.read(run)


@endpoints("POST", "/api/v1/offices/{office_id:int}/users", summary="Create a head or clerk", allow=HEADS,
           body=UserCreate, response=UserOut, status=201)
async def create_user(call: Call) -> Any:
    office_id, body = call.param("office_id"), call.body

    def run(session: Session) -> dict[str, Any]:
        require_office(session, call.actor, office_id)
        if session.exec(select(User).where(User.username == body.username)).first():
            raise ApiError(409, "duplicate_username", f"Username {body.username!r} is taken.", field="username")
        user = User(username=body.username, full_name=body.full_name, role=body.role, office_id=office_id,
                    password_hash=hash_password(body.password), created_at=call.now())
        session.add(user)
        session.flush()
        return user_view(user)
    return await call.write(run)


@endpoints("PATCH", "/api/v1/users/{user_id:int}", summary="Change a user (name, role, password, active)",
           allow=HEADS, body=UserPatch, response=UserOut)
async def patch_user(call: Call) -> Any:
    body: UserPatch = call.body

    def run(session: Session) -> dict[str, Any]:
        user = load(session, User, call.param("user_id"), call.actor)
        if user.role == "admin" and call.actor.kind != "admin":
            raise ApiError(403, "forbidden", "Only an admin changes an admin.")
        changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
        if (user.role == "admin" or user.id == call.actor.id) and (
                changes.get("active") is False or "role" in changes):
            raise ApiError(409, "account_protected", "An admin's role, and your own account's role or active "
                           "state, cannot be changed here; ask another admin.")
        if "password" in changes:
            user.password_hash = hash_password(changes.pop("password"))
            revoke_tokens(session, user_id=user.id, keep_token_id=call.actor.token_id)
        for k, v in changes.items():
            if v is not None:
                setattr(user, k, v)
        if changes.get("active") is False:
            revoke_tokens(session, user_id=user.id)
        session.add(user)
        return user_view(user)
    return await call.write(run)


@endpoints("DELETE", "/api/v1/users/{user_id:int}", summary="Deactivate a user and revoke their tokens",
           allow=HEADS, response=UserOut)
async def delete_user(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        user = load(session, User, call.param("user_id"), call.actor)
        if user.role == "admin":
            raise ApiError(403, "forbidden", "The admin account cannot be deleted.")
        user.active = False
        revoke_tokens(session, user_id=user.id)
        session.add(user)
        return user_view(user)
    result = await call.write(run)
    await call.qms.close_actor("user", result["id"])
    return result


__all__ = ["endpoints", "STAFF"]
