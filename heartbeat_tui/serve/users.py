"""User administration over HTTP: the `heartbeat users ...` actions, admin only.

Each route calls the same `AuthService` operation as the CLI, so validation,
the last-admin guard, the audit trail and "their sessions end at once" are the
CLI's; a user comes back as `heartbeat users list --format json` shows it.

    GET    /api/v1/users                       list
    POST   /api/v1/users                       create {username, password, role, accounts?, email?, full_name?}
    GET    /api/v1/users/{name}                one user
    PATCH  /api/v1/users/{name}                update {email?, full_name?} ("" removes one)
    POST   /api/v1/users/{name}/disable        (sessions end at once)
    POST   /api/v1/users/{name}/enable
    POST   /api/v1/users/{name}/unlock
    POST   /api/v1/users/{name}/role           {role}
    POST   /api/v1/users/{name}/accounts       {accounts: "id,..." or [ids]}
    POST   /api/v1/users/{name}/password       {password} (lockout cleared, sessions ended)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import StrictStr

from heartbeat_tui.auth.service import UNSET
from heartbeat_tui.cli_admin import user_json  # the CLI's JSON of a user, shared
from heartbeat_tui.serve.errors import invalid, json_response
from heartbeat_tui.serve.http import NoBody, Strict, read_body

if TYPE_CHECKING:
    from heartbeat_tui.serve.app import Api


class CreateBody(Strict):
    username: StrictStr
    password: StrictStr
    role: StrictStr
    accounts: StrictStr | list[StrictStr] | None = None
    email: StrictStr | None = None
    full_name: StrictStr | None = None


class UpdateBody(Strict):
    email: StrictStr | None = None
    full_name: StrictStr | None = None


class RoleBody(Strict):
    role: StrictStr


class AccountsBody(Strict):
    accounts: StrictStr | list[StrictStr]


class PasswordBody(Strict):
    password: StrictStr


def add_user_routes(app: web.Application, api: Api) -> None:
    auth = api.auth

    async def listing(request: web.Request) -> web.Response:
        views = await auth.list_users(await api.session(request))
        return json_response([user_json(v) for v in views])

    async def create(request: web.Request) -> web.Response:
        body: CreateBody = await read_body(request, CreateBody)
        view = await auth.create_user(
            await api.session(request),
            username=body.username,
            password=body.password,
            role=body.role,
            accounts=body.accounts,
            email=body.email,
            full_name=body.full_name,
        )
        return json_response(user_json(view), status=201)  # nobody's session changed

    async def one(request: web.Request) -> web.Response:
        view = await auth.get_user(await api.session(request), request.match_info["name"])
        return json_response(user_json(view))

    async def update(request: web.Request) -> web.Response:
        body: UpdateBody = await read_body(request, UpdateBody)
        given = body.model_fields_set
        if not given:
            raise invalid("nothing to change: give email and/or full_name")
        view = await auth.update_profile(
            await api.session(request),
            request.match_info["name"],
            email=body.email if "email" in given else UNSET,
            full_name=body.full_name if "full_name" in given else UNSET,
        )
        return json_response(user_json(view))  # a profile: no session changed

    async def action(request: web.Request) -> web.Response:
        name, verb = request.match_info["name"], request.match_info["action"]
        if verb in ("disable", "enable", "unlock"):
            await read_body(request, NoBody)
            session = await api.session(request)
            if verb == "unlock":
                view = await auth.unlock(session, name)
            else:
                view = await auth.set_active(session, name, verb == "enable")
        elif verb == "role":
            role: RoleBody = await read_body(request, RoleBody)
            view = await auth.set_role(await api.session(request), name, role.role)
        elif verb == "accounts":
            accounts: AccountsBody = await read_body(request, AccountsBody)
            view = await auth.set_accounts(await api.session(request), name, accounts.accounts)
        elif verb == "password":
            password: PasswordBody = await read_body(request, PasswordBody)
            view = await auth.reset_password(await api.session(request), name, password.password)
        else:
            raise web.HTTPNotFound()
        api.sessions.forget_all()  # their sessions may have ended: checked again from the next request on
        return json_response(user_json(view))

    app.router.add_get("/api/v1/users", listing)
    app.router.add_post("/api/v1/users", create)
    app.router.add_get("/api/v1/users/{name}", one)
    app.router.add_patch("/api/v1/users/{name}", update)
    app.router.add_post("/api/v1/users/{name}/{action}", action)
