"""/api/v1/auth: sign-up, login, refresh, logout, me, switch-org, accept-invite."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from agentflow.auth import service
from agentflow.auth.dependencies import (
    CurrentUser,
    UserIdentity,
    authenticate_api_key_outside_transaction,
    authenticate_user,
)
from agentflow.auth.schemas import (
    AcceptInviteIn,
    LoginIn,
    MeOut,
    SignupIn,
    SwitchOrgIn,
    TokenOut,
)
from agentflow.kit.deps import DatabaseDep, RateLimiterDep, RequestMetaDep, SessionDep, SettingsDep
from agentflow.kit.principal import Principal
from agentflow.kit.security import sha256_hex
from agentflow.orgs import invitations
from agentflow.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"])

REFRESH_COOKIE = "af_refresh"
REFRESH_COOKIE_PATH = "/api/v1/auth"


async def limit_auth_by_ip(
    limiter: RateLimiterDep, settings: SettingsDep, meta: RequestMetaDep, response: Response
) -> None:
    """Auth endpoints are the brute-force target: limit them per client IP (spec §8.4)."""
    state = await limiter.hit(settings.rate_limit_auth_ip, "auth_ip", meta.ip or "unknown")
    if state:
        response.headers.update(state.headers())


AuthIpLimit = Depends(limit_auth_by_ip)


def _set_refresh_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=settings.refresh_token_ttl_days * 86400,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
    )


def _clear_refresh_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, httponly=True, secure=settings.cookie_secure, samesite="strict"
    )


@router.post("/signup", status_code=status.HTTP_201_CREATED, dependencies=[AuthIpLimit])
async def signup(
    body: SignupIn, response: Response, session: SessionDep, settings: SettingsDep, meta: RequestMetaDep
) -> TokenOut:
    """Create an account and its first organization; the caller becomes its owner."""
    issued = await service.signup(session, settings, body, meta)
    _set_refresh_cookie(response, settings, issued.refresh_token)
    return issued.body


@router.post("/login", dependencies=[AuthIpLimit])
async def login(
    body: LoginIn,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
    meta: RequestMetaDep,
) -> TokenOut:
    # Per account as well as per IP, so a botnet can't spray one account.
    await limiter.hit(settings.rate_limit_auth_account, "auth_account", sha256_hex(body.email.lower()))
    issued = await service.login(session, settings, body, meta)
    _set_refresh_cookie(response, settings, issued.refresh_token)
    return issued.body


@router.post("/refresh", dependencies=[AuthIpLimit])
async def refresh(
    request: Request, response: Response, db: DatabaseDep, settings: SettingsDep, meta: RequestMetaDep
) -> TokenOut:
    """Exchange the refresh cookie for a new access token; the cookie rotates on every use."""
    issued = await service.refresh(db, settings, request.cookies.get(REFRESH_COOKIE), meta)
    _set_refresh_cookie(response, settings, issued.refresh_token)
    return issued.body


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, db: DatabaseDep, settings: SettingsDep, meta: RequestMetaDep) -> Response:
    """End this login session: its whole refresh-token family is revoked."""
    await service.logout(db, request.cookies.get(REFRESH_COOKIE), meta)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    _clear_refresh_cookie(response, settings)
    return response


async def identify(request: Request, response: Response) -> Principal | UserIdentity:
    """Either kind of caller: an API key (bound to its org) or a signed-in user.

    No request session: `me` reads without one, and a key is checked outside any transaction.
    """
    if request.headers.get("x-api-key") is not None:
        return await authenticate_api_key_outside_transaction(request, response)
    return await authenticate_user(request)


@router.get("/me")
async def me(caller: Annotated[Principal | UserIdentity, Depends(identify)], db: DatabaseDep) -> MeOut:
    """The signed-in user, their current org and role, and every org they belong to."""
    # One round trip outside any session either way (see kit/db.py): this runs on every page load.
    if isinstance(caller, Principal):
        return await service.describe_api_key(db, caller)
    return await service.describe_user(db, user_id=caller.user_id, org_id=caller.org_id)


@router.post("/switch-org")
async def switch_org(
    body: SwitchOrgIn,
    user: CurrentUser,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    meta: RequestMetaDep,
) -> TokenOut:
    """Make another org (one the user belongs to) current; returns a new access token."""
    issued = await service.switch_org(
        session,
        settings,
        user_id=user.user_id,
        org_id=body.org_id,
        old_refresh_token=request.cookies.get(REFRESH_COOKIE),
        meta=meta,
    )
    _set_refresh_cookie(response, settings, issued.refresh_token)
    return issued.body


@router.post("/accept-invite", dependencies=[AuthIpLimit])
async def accept_invite(
    body: AcceptInviteIn,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    meta: RequestMetaDep,
) -> TokenOut:
    """Join an org with an invitation token. New users set a name and password here; existing
    users must be signed in as the invited email (Bearer token) or give their password."""
    signed_in = None
    if request.headers.get("authorization"):
        signed_in = await authenticate_user(request)
    user, org, role = await invitations.accept(
        session,
        token=body.token,
        name=body.name,
        password=body.password,
        signed_in_user_id=signed_in.user_id if signed_in else None,
        meta=meta,
    )
    issued = await service.issue_session(session, settings, user=user, org=org, role=role, meta=meta)
    _set_refresh_cookie(response, settings, issued.refresh_token)
    return issued.body
