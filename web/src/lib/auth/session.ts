/**
 * Who is signed in, and the access token (spec §2.5): kept in memory only, never in storage a
 * script could read later. The refresh token is an httpOnly cookie on /api/v1/auth, rotated on
 * every use; the server revokes the whole family when a rotated token is reused, so two tabs must
 * never refresh with the same cookie at once: refreshes are serialised across tabs with a Web Lock.
 */
import { create } from "zustand";

import type { components } from "@/lib/api/schema";

export type Me = components["schemas"]["MeOut"];
type TokenOut = components["schemas"]["TokenOut"];

export type SessionStatus = "loading" | "signed-in" | "signed-out";

interface SessionState {
  status: SessionStatus;
  me: Me | null;
}

export const useSession = create<SessionState>(() => ({ status: "loading", me: null }));

// Outside the store: components never need to re-render for a new token.
let token: string | null = null;
let tokenExpiresAt = 0;
let refreshing: Promise<string | null> | null = null;

const REFRESH_MARGIN_MS = 30_000;
// Not a secret: only that this browser signed in and may hold a refresh cookie. Without it a
// signed-out page load asks nothing of the server (no refresh call doomed to a 401).
const SIGNED_IN_HINT = "agentflow-signed-in";

function setHint(present: boolean): void {
  try {
    if (present) window.localStorage.setItem(SIGNED_IN_HINT, "1");
    else window.localStorage.removeItem(SIGNED_IN_HINT);
  } catch {
    // storage disabled: every load tries the refresh cookie instead
  }
}

function hasHint(): boolean {
  try {
    return window.localStorage.getItem(SIGNED_IN_HINT) !== null;
  } catch {
    return true;
  }
}
const channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("agentflow-session");
channel?.addEventListener("message", (event: MessageEvent<string>) => {
  // Another tab signed out or switched org: this tab's token no longer matches its cookie.
  if (event.data === "signed-out") forget();
  if (event.data === "org-switched") void refreshSession().then((fresh) => (fresh ? loadMe() : null));
});

function remember(issued: TokenOut): void {
  setHint(true);
  token = issued.access_token;
  tokenExpiresAt = Date.now() + issued.expires_in * 1000;
}

function forget(): void {
  setHint(false);
  token = null;
  tokenExpiresAt = 0;
  useSession.setState({ status: "signed-out", me: null });
}

async function withRefreshLock<T>(work: () => Promise<T>): Promise<T> {
  if (typeof navigator !== "undefined" && navigator.locks) {
    return navigator.locks.request("agentflow-refresh", work);
  }
  return work();
}

/** A fresh access token from the refresh cookie, or null (and signed out) when there is none. */
export function refreshSession(): Promise<string | null> {
  refreshing ??= withRefreshLock(async () => {
    try {
      const response = await fetch("/api/v1/auth/refresh", { method: "POST", credentials: "same-origin" });
      if (!response.ok) {
        forget();
        return null;
      }
      remember((await response.json()) as TokenOut);
      return token;
    } catch {
      return null; // offline: keep the state; the next call tries again
    }
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** The access token for the next request, refreshed shortly before it expires. */
export async function accessToken(): Promise<string | null> {
  if (token && Date.now() < tokenExpiresAt - REFRESH_MARGIN_MS) return token;
  if (useSession.getState().status === "signed-out") return null;
  return refreshSession();
}

/** Reload who is signed in (after sign-in, an org switch or a role change). */
export async function loadMe(): Promise<Me | null> {
  const bearer = await accessToken();
  if (!bearer) return null;
  const response = await fetch("/api/v1/auth/me", { headers: { Authorization: `Bearer ${bearer}` } });
  if (!response.ok) {
    forget();
    return null;
  }
  const me = (await response.json()) as Me;
  useSession.setState({ status: "signed-in", me });
  return me;
}

/** On page load: a session exists if the refresh cookie still works. */
export async function restoreSession(): Promise<void> {
  if (hasHint() && (await refreshSession())) await loadMe();
  else forget();
}

/** After login, signup, accepting an invite or switching org: the response carries the token. */
export async function startSession(issued: TokenOut, switchedOrg = false): Promise<void> {
  remember(issued);
  await loadMe();
  if (switchedOrg) channel?.postMessage("org-switched");
}

export async function endSession(): Promise<void> {
  try {
    await fetch("/api/v1/auth/logout", { method: "POST", credentials: "same-origin" });
  } finally {
    forget();
    channel?.postMessage("signed-out");
  }
}

/** Whether the signed-in user's role allows a permission (kit/permissions.py on the server). */
export function useCan(permission: string): boolean {
  return useSession((state) => state.me?.permissions?.includes(permission) ?? false);
}
