import { describe, expect, it } from "vitest";

import { extractInviteLink, inviteLinkFor } from "./invite-link";

const body = (token: string) =>
  `You have been invited to join Acme on AgentFlow as editor.\n\nAccept the invitation: http://localhost:8000/accept-invite/?token=${token}\n\nThe link works once.\n`;

describe("extractInviteLink", () => {
  it("finds the accept link, with or without the trailing slash", () => {
    expect(extractInviteLink(body("abc_DEF-123"))).toBe("http://localhost:8000/accept-invite/?token=abc_DEF-123");
    expect(extractInviteLink("go to https://app.example.com/accept-invite?token=xyz now")).toBe(
      "https://app.example.com/accept-invite?token=xyz",
    );
  });

  it("finds nothing in other mail", () => {
    expect(extractInviteLink("Your password was changed.")).toBeNull();
  });
});

describe("inviteLinkFor", () => {
  const invitation = { email: "Ann@Example.com", created_at: "2026-03-01T10:00:00Z" };

  it("takes the first mail to that address sent with or after the invitation", () => {
    const outbox = [
      { to: "ann@example.com", body: body("later"), created_at: "2026-03-01T11:00:00Z" },
      { to: "ann@example.com", body: body("mine"), created_at: "2026-03-01T10:00:00.5Z" },
      { to: "ann@example.com", body: body("older"), created_at: "2026-02-01T10:00:00Z" },
      { to: "bob@example.com", body: body("bob"), created_at: "2026-03-01T10:00:00Z" },
    ];
    expect(inviteLinkFor(invitation, outbox)).toBe("http://localhost:8000/accept-invite/?token=mine");
  });

  it("gives nothing without an outbox or a matching mail", () => {
    expect(inviteLinkFor(invitation, undefined)).toBeNull();
    expect(
      inviteLinkFor(invitation, [{ to: "ann@example.com", body: body("old"), created_at: "2026-01-01T00:00:00Z" }]),
    ).toBeNull();
  });
});
