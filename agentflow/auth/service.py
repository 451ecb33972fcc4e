"""Sign-up, login, refresh-token rotation, logout and org switching (spec §2.5, §8.1)."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agentflow.audit import service as audit
from agentflow.auth.repository import (
    MembershipRepository,
    OrgInfo,
    RefreshTokenRepository,
    UserRepository,
    api_key_with_org,
    user_with_orgs,
)
from agentflow.auth.schemas import (
    ApiKeyIdentityOut,
    LoginIn,
    MeOut,
    OrgOut,
    OrgWithRoleOut,
    SignupIn,
    TokenOut,
    UserOut,
)
from agentflow.kit.db import Database, set_tenant_context
from agentflow.kit.errors import Conflict, Forbidden, Unauthorized
from agentflow.kit.permissions import ROLE_PERMISSIONS, SCOPE_PERMISSIONS
from agentflow.kit.principal import Principal, RequestMeta
from agentflow.kit.security import (
    hash_password,
    issue_access_token,
    new_secret_token,
    sha256_hex,
    verify_password,
)
from agentflow.models.auth import RefreshToken
from agentflow.models.orgs import Organization, OrgMembership, Role, User
from agentflow.settings import Settings


@dataclass(frozen=True)
class IssuedSession:
    """What a successful login returns: the body for the client and the refresh cookie value."""

    body: TokenOut
    refresh_token: str


def _now() -> datetime:
    return datetime.now(UTC)


def _slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-")
    return slug or "org"


async def issue_session(
    session: AsyncSession,
    settings: Settings,
    *,
    user: User,
    org: Organization | None,
    role: str | None,
    meta: RequestMeta,
    family_id: uuid.UUID | None = None,
) -> IssuedSession:
    assert settings.jwt_secret is not None
    refresh_token = new_secret_token()
    await RefreshTokenRepository(session).add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=sha256_hex(refresh_token),
            session_org_id=org.id if org else None,
            expires_at=_now() + timedelta(days=settings.refresh_token_ttl_days),
            user_agent=meta.user_agent,
        )
    )
    access, expires_at = issue_access_token(
        user_id=user.id,
        org_id=org.id if org else None,
        secret=settings.jwt_secret.get_secret_value(),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    body = TokenOut(
        access_token=access,
        expires_in=settings.access_token_ttl_seconds,
        expires_at=expires_at,
        user=UserOut(id=user.id, email=user.email, name=user.name),
        org=OrgOut(id=org.id, name=org.name, slug=org.slug, plan=org.plan) if org else None,
        role=role,
    )
    return IssuedSession(body=body, refresh_token=refresh_token)


async def signup(session: AsyncSession, settings: Settings, data: SignupIn, meta: RequestMeta) -> IssuedSession:
    users = UserRepository(session)
    email = data.email.lower()
    if await users.by_email(email):
        raise Conflict("An account with this email already exists", code="EMAIL_TAKEN")
    user = User(email=email, name=data.name, password_hash=hash_password(data.password))
    try:
        async with session.begin_nested():
            await users.add(user)
    except IntegrityError as exc:  # a concurrent sign-up with the same email won the race
        raise Conflict("An account with this email already exists", code="EMAIL_TAKEN") from exc

    org = await create_org(session, user=user, name=data.org_name, slug=data.org_slug, meta=meta)
    await audit.record(
        session,
        org_id=org.id,
        user_id=user.id,
        meta=meta,
        action="org.created",
        resource_type="organization",
        resource_id=org.id,
        details={"name": org.name, "slug": org.slug},
    )
    return await issue_session(session, settings, user=user, org=org, role=Role.OWNER.value, meta=meta)


async def create_org(
    session: AsyncSession, *, user: User, name: str, slug: str | None, meta: RequestMeta
) -> Organization:
    """Create an org with `user` as its owner. A taken explicit slug is a 409; a derived one gets
    a random suffix."""
    org_id = uuid.uuid4()
    await set_tenant_context(session, org_id=org_id, user_id=user.id)
    candidates = (
        [slug] if slug else [_slugify(name)] + [f"{_slugify(name)[:50]}-{secrets.token_hex(3)}" for _ in range(5)]
    )
    for candidate in candidates:
        org = Organization(id=org_id, name=name, slug=candidate)
        try:
            async with session.begin_nested():
                session.add(org)
                await session.flush()
        except IntegrityError:  # the savepoint rolled back; try the next candidate
            continue
        session.add(OrgMembership(org_id=org.id, user_id=user.id, role=Role.OWNER.value))
        await session.flush()
        return org
    raise Conflict("This organization slug is already taken", code="SLUG_TAKEN", details={"slug": slug})


async def login(session: AsyncSession, settings: Settings, data: LoginIn, meta: RequestMeta) -> IssuedSession:
    user = await UserRepository(session).by_email(data.email)
    # verify_password always runs one argon2 check, so unknown emails take as long as known ones.
    valid = verify_password(data.password, user.password_hash if user else None)
    if not user or not valid or not user.is_active:
        raise Unauthorized("Email or password is incorrect", code="INVALID_CREDENTIALS")
    await set_tenant_context(session, org_id=None, user_id=user.id)
    memberships = await MembershipRepository(session).orgs_of(user.id)
    chosen: tuple[Organization, str] | None = memberships[0] if memberships else None
    if data.org_id:
        chosen = next((m for m in memberships if m[0].id == data.org_id), None)
        if chosen is None:
            raise Forbidden("You are not a member of that organization", code="NOT_A_MEMBER")
    org, role = chosen if chosen else (None, None)
    if org:
        await set_tenant_context(session, org_id=org.id, user_id=user.id)
        await audit.record(
            session,
            org_id=org.id,
            user_id=user.id,
            meta=meta,
            action="auth.login",
            resource_type="user",
            resource_id=user.id,
        )
    return await issue_session(session, settings, user=user, org=org, role=role, meta=meta)


class RefreshReuseDetected(Unauthorized):
    code = "REFRESH_TOKEN_REUSED"


async def refresh(db: Database, settings: Settings, token: str | None, meta: RequestMeta) -> IssuedSession:
    """Rotate a refresh token. A token that was already rotated is a stolen copy (or a replay):
    the whole family is revoked — committed before the 401 goes out — and the user must log in."""
    if not token or len(token) > 200:
        raise Unauthorized("No valid refresh token", code="INVALID_REFRESH_TOKEN")
    now = _now()
    reused = False
    async with db.transaction() as session:
        tokens = RefreshTokenRepository(session)
        row = await tokens.by_hash_for_update(sha256_hex(token))
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise Unauthorized("No valid refresh token", code="INVALID_REFRESH_TOKEN")
        if row.used_at is not None:
            await tokens.revoke_family(row.family_id, now)
            reused = True
            if row.session_org_id is not None:
                # A security signal worth an admin's attention: a stolen or replayed session.
                await set_tenant_context(session, org_id=row.session_org_id, user_id=row.user_id)
                await audit.record(
                    session,
                    org_id=row.session_org_id,
                    user_id=row.user_id,
                    meta=meta,
                    action="auth.refresh_token_reused",
                    resource_type="user",
                    resource_id=row.user_id,
                    details={"family_id": str(row.family_id)},
                )
        else:
            row.used_at = now
            user = await UserRepository(session).by_id(row.user_id)
            if user is None or not user.is_active:
                raise Unauthorized("No valid refresh token", code="INVALID_REFRESH_TOKEN")
            await set_tenant_context(session, org_id=None, user_id=user.id)
            memberships = await MembershipRepository(session).orgs_of(user.id)
            # Keep the org the session had selected while the user still belongs to it.
            chosen = next((m for m in memberships if m[0].id == row.session_org_id), None)
            chosen = chosen or (memberships[0] if memberships else None)
            org, role = chosen if chosen else (None, None)
            return await issue_session(
                session, settings, user=user, org=org, role=role, meta=meta, family_id=row.family_id
            )
    assert reused
    raise RefreshReuseDetected("This refresh token was already used; please log in again")


async def logout(db: Database, token: str | None, meta: RequestMeta) -> None:
    if not token or len(token) > 200:
        return
    async with db.transaction() as session:
        tokens = RefreshTokenRepository(session)
        row = await tokens.by_hash_for_update(sha256_hex(token))
        if row is None or row.revoked_at is not None:
            return
        await tokens.revoke_family(row.family_id, _now())
        if row.session_org_id is not None:
            await set_tenant_context(session, org_id=row.session_org_id, user_id=row.user_id)
            await audit.record(
                session,
                org_id=row.session_org_id,
                user_id=row.user_id,
                meta=meta,
                action="auth.logout",
                resource_type="user",
                resource_id=row.user_id,
            )


async def switch_org(
    session: AsyncSession,
    settings: Settings,
    *,
    user_id: uuid.UUID,
    org_id: uuid.UUID,
    old_refresh_token: str | None,
    meta: RequestMeta,
) -> IssuedSession:
    user = await UserRepository(session).by_id(user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Your account is not active", code="ACCOUNT_INACTIVE")
    await set_tenant_context(session, org_id=None, user_id=user.id)
    chosen = next((m for m in await MembershipRepository(session).orgs_of(user.id) if m[0].id == org_id), None)
    if chosen is None:
        raise Forbidden("You are not a member of that organization", code="NOT_A_MEMBER")
    org, role = chosen
    tokens = RefreshTokenRepository(session)
    family_id: uuid.UUID | None = None
    if old_refresh_token and len(old_refresh_token) <= 200:
        old = await tokens.by_hash_for_update(sha256_hex(old_refresh_token))
        if old is not None and old.user_id == user.id and old.used_at is None and old.revoked_at is None:
            old.used_at = _now()
            family_id = old.family_id
    await set_tenant_context(session, org_id=org.id, user_id=user.id)
    await audit.record(
        session,
        org_id=org.id,
        user_id=user.id,
        meta=meta,
        action="auth.org_switched",
        resource_type="user",
        resource_id=user.id,
    )
    return await issue_session(session, settings, user=user, org=org, role=role, meta=meta, family_id=family_id)


async def describe_api_key(db: Database, principal: Principal) -> MeOut:
    assert principal.api_key_id is not None
    found = await api_key_with_org(db, principal.api_key_id, principal.org_id)
    if found is None:
        raise Unauthorized("The API key is invalid, revoked or expired", code="INVALID_API_KEY")
    key, org = found
    return MeOut(
        user=None,
        api_key=ApiKeyIdentityOut(id=key.id, name=key.name, prefix=key.prefix, scopes=key.scopes),
        org=_org_out(org),
        role=None,
        orgs=[],
        permissions=sorted({p.value for scope in key.scopes for p in SCOPE_PERMISSIONS.get(scope, ())}),
    )


async def describe_user(db: Database, *, user_id: uuid.UUID, org_id: uuid.UUID | None) -> MeOut:
    found = await user_with_orgs(db, user_id, org_id)
    if found is None or not found.is_active:
        raise Unauthorized("Your account is not active", code="ACCOUNT_INACTIVE")
    current = next(((org, role) for org, role in found.orgs if org.id == org_id), None)
    return MeOut(
        user=UserOut(id=user_id, email=found.email, name=found.name),
        org=_org_out(current[0]) if current else None,
        role=current[1] if current else None,
        orgs=[OrgWithRoleOut(**_org_out(org).model_dump(), role=role) for org, role in found.orgs],
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[Role(current[1])]) if current else [],
    )


def _org_out(org: OrgInfo) -> OrgOut:
    return OrgOut(id=org.id, name=org.name, slug=org.slug, plan=org.plan)
