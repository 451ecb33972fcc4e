import { describe, expect, it } from "vitest";

import {
  type CreatedApiKey,
  SCOPES,
  canGrant,
  expiryToIso,
  initialScopes,
  keyDialogReducer,
  keyState,
  scopeLabel,
  toggleScope,
} from "./api-keys";

const EDITOR = [
  "org.read",
  "agents.read",
  "executions.read",
  "integrations.read",
  "knowledge.read",
  "analytics.read",
  "agents.write",
  "agents.execute",
  "knowledge.write",
];
const ADMIN = [
  ...EDITOR,
  "org.manage",
  "members.manage",
  "api_keys.manage",
  "audit.read",
  "agents.delete",
  "integrations.manage",
];
const scope = (id: string) => SCOPES.find((item) => item.id === id)!;

describe("scopes", () => {
  it("mirrors the server's scope list", () => {
    expect(SCOPES.map((item) => item.id).sort()).toEqual(
      [
        "agents:delete",
        "agents:read",
        "agents:write",
        "analytics:read",
        "audit:read",
        "executions:read",
        "executions:write",
        "integrations:read",
        "knowledge:read",
        "knowledge:write",
        "org:read",
      ].sort(),
    );
  });

  it("lets a role grant only what it holds itself", () => {
    expect(canGrant(scope("executions:write"), EDITOR)).toBe(true);
    expect(canGrant(scope("agents:delete"), EDITOR)).toBe(false);
    expect(canGrant(scope("audit:read"), EDITOR)).toBe(false);
    expect(canGrant(scope("audit:read"), ADMIN)).toBe(true);
  });

  it("starts from the server's defaults, minus what cannot be granted", () => {
    expect(initialScopes(ADMIN)).toEqual(["agents:read", "agents:write", "executions:read"]);
    expect(initialScopes(["agents.read", "executions.read"])).toEqual(["agents:read", "executions:read"]);
  });

  it("toggles in catalog order and drops unknown ids", () => {
    expect(toggleScope(["executions:read", "bogus"], "agents:read", true)).toEqual(["agents:read", "executions:read"]);
    expect(toggleScope(["agents:read", "executions:read"], "agents:read", false)).toEqual(["executions:read"]);
    expect(toggleScope(["agents:read"], "agents:read", true)).toEqual(["agents:read"]);
  });

  it("labels scopes, and unknown ones as themselves", () => {
    expect(scopeLabel("executions:write")).toBe("Run agents");
    expect(scopeLabel("future:thing")).toBe("future:thing");
  });
});

describe("expiryToIso", () => {
  const now = new Date("2026-03-01T12:00:00Z");

  it("never expires, or expires a number of days from now", () => {
    expect(expiryToIso("never", "", now)).toBeNull();
    expect(expiryToIso("30", "", now)).toBe("2026-03-31T12:00:00.000Z");
    expect(expiryToIso("365", "", now)).toBe("2027-03-01T12:00:00.000Z");
  });

  it("ends a chosen day at its last local second", () => {
    const iso = expiryToIso("custom", "2026-04-10", now)!;
    const end = new Date(iso);
    expect([end.getFullYear(), end.getMonth(), end.getDate(), end.getHours(), end.getMinutes()]).toEqual([
      2026, 3, 10, 23, 59,
    ]);
  });

  it("refuses a missing or past day", () => {
    expect(() => expiryToIso("custom", "", now)).toThrow(/pick the day/i);
    expect(() => expiryToIso("custom", "2026-02-01", now)).toThrow(/future/);
  });
});

describe("keyState", () => {
  const now = Date.parse("2026-03-01T00:00:00Z");
  it("reads revoked, expired (by status or date) and active", () => {
    expect(keyState({ status: "revoked", expires_at: null }, now)).toBe("revoked");
    expect(keyState({ status: "active", expires_at: "2026-02-01T00:00:00Z" }, now)).toBe("expired");
    expect(keyState({ status: "active", expires_at: "2027-01-01T00:00:00Z" }, now)).toBe("active");
    expect(keyState({ status: "active", expires_at: null }, now)).toBe("active");
  });
});

describe("keyDialogReducer: the one-time reveal", () => {
  const created = { id: "k1", name: "CI", key: "af_live_secret", scopes: ["agents:read"] } as CreatedApiKey;

  it("reveals the new key, not yet copied", () => {
    expect(keyDialogReducer({ step: "form" }, { type: "created", key: created })).toEqual({
      step: "reveal",
      key: created,
      copied: false,
    });
  });

  it("remembers the copy, and only while revealing", () => {
    const revealed = keyDialogReducer({ step: "form" }, { type: "created", key: created });
    expect(keyDialogReducer(revealed, { type: "copied" })).toMatchObject({ step: "reveal", copied: true });
    expect(keyDialogReducer({ step: "form" }, { type: "copied" })).toEqual({ step: "form" });
  });

  it("forgets the secret when reset", () => {
    const revealed = keyDialogReducer({ step: "form" }, { type: "created", key: created });
    const reset = keyDialogReducer(revealed, { type: "reset" });
    expect(reset).toEqual({ step: "form" });
    expect(JSON.stringify(reset)).not.toContain("af_live_secret");
  });
});
