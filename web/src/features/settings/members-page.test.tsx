import { act, cleanup, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { api } from "@/lib/api/client";

import { MembersPage } from "./members-page";
import { ADMIN_PERMISSIONS, EDITOR_PERMISSIONS, answer, failure, renderWithClient, signIn } from "./test-utils";

vi.mock("@/lib/api/client", async (importActual) => {
  const actual = await importActual<typeof import("@/lib/api/client")>();
  return { ...actual, api: { GET: vi.fn(), POST: vi.fn(), PUT: vi.fn(), DELETE: vi.fn() } };
});
vi.mock("next/navigation", () => ({ usePathname: () => "/settings/members/" }));
vi.mock("sonner", () => ({ toast: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn(), warning: vi.fn() }) }));

const members = [
  { id: "m1", user_id: "u-me", email: "me@example.com", name: "Me", role: "admin", joined_at: "2026-01-01T00:00:00Z" },
  {
    id: "m2",
    user_id: "u-ann",
    email: "ann@example.com",
    name: "Ann",
    role: "viewer",
    joined_at: "2026-01-02T00:00:00Z",
  },
  {
    id: "m3",
    user_id: "u-own",
    email: "own@example.com",
    name: null,
    role: "owner",
    joined_at: "2026-01-03T00:00:00Z",
  },
];
const invitation = {
  id: "i1",
  email: "bob@example.com",
  role: "editor",
  status: "pending",
  expires_at: "2099-01-01T00:00:00Z",
  created_at: "2026-03-01T10:00:00Z",
};
const mail = {
  id: "e1",
  to: "bob@example.com",
  subject: "You're invited",
  body: "Accept the invitation: http://localhost:8000/accept-invite/?token=tok123\n",
  created_at: "2026-03-01T10:00:00Z",
};

const get = vi.mocked(api.GET);
const put = vi.mocked(api.PUT);

beforeEach(() => {
  get.mockReset().mockImplementation(((path: string) => {
    if (path === "/api/v1/org/members") return answer({ items: members, next_cursor: null });
    if (path === "/api/v1/org/invitations") return answer({ items: [invitation], next_cursor: null });
    if (path === "/api/v1/org/outbox") return answer({ items: [mail], next_cursor: null });
    throw new Error(`unexpected GET ${path}`);
  }) as never);
  put.mockReset();
});
afterEach(cleanup);

describe("MembersPage", () => {
  it("lists members with a labelled role select each, and who cannot be removed", async () => {
    signIn("admin", ADMIN_PERMISSIONS);
    renderWithClient(<MembersPage />);
    const ann = await screen.findByTestId("member-ann@example.com");
    const select = within(ann).getByLabelText("Role for ann@example.com") as HTMLSelectElement;
    expect(select.value).toBe("viewer");
    // An admin may not grant ownership: Owner is offered only where it is already the role.
    expect([...select.options].map((option) => option.value)).toEqual(["admin", "editor", "viewer"]);
    const owner = screen.getByLabelText("Role for own@example.com") as HTMLSelectElement;
    expect([...owner.options].map((option) => option.value)).toContain("owner");
    // Nobody removes themselves from here.
    expect(within(screen.getByTestId("member-me@example.com")).queryByRole("button", { name: "Remove" })).toBeNull();
    expect(within(ann).getByRole("button", { name: "Remove" })).toBeTruthy();
  });

  it("changes a role through the API", async () => {
    signIn("admin", ADMIN_PERMISSIONS);
    put.mockReturnValue(answer({ ...members[1], role: "editor" }) as never);
    renderWithClient(<MembersPage />);
    const select = (await screen.findByLabelText("Role for ann@example.com")) as HTMLSelectElement;
    await act(async () => fireEvent.change(select, { target: { value: "editor" } }));
    expect(put).toHaveBeenCalledWith("/api/v1/org/members/{member_id}/role", {
      params: { path: { member_id: "m2" } },
      body: { role: "editor" },
    });
  });

  it("falls back to the saved role when the server refuses", async () => {
    signIn("admin", ADMIN_PERMISSIONS);
    put.mockReturnValue(
      failure(403, {
        error: { code: "OWNER_REQUIRED", message: "Only an owner can change or remove an owner" },
      }) as never,
    );
    renderWithClient(<MembersPage />);
    const select = (await screen.findByLabelText("Role for own@example.com")) as HTMLSelectElement;
    await act(async () => fireEvent.change(select, { target: { value: "viewer" } }));
    expect(select.value).toBe("owner");
  });

  it("lists pending invitations with the outbox link to copy", async () => {
    signIn("admin", ADMIN_PERMISSIONS);
    renderWithClient(<MembersPage />);
    const row = await screen.findByTestId("invitation-bob@example.com");
    expect(await within(row).findByRole("button", { name: "Copy invite link for bob@example.com" })).toBeTruthy();
    expect(within(row).getByRole("button", { name: "Revoke" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Invite member" })).toBeTruthy();
  });

  it("shows roles read-only, without invitations, to someone who cannot manage members", async () => {
    signIn("editor", EDITOR_PERMISSIONS);
    renderWithClient(<MembersPage />);
    const ann = await screen.findByTestId("member-ann@example.com");
    expect(within(ann).queryByRole("combobox")).toBeNull();
    expect(within(ann).getByText("Viewer")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Invite member" })).toBeNull();
    expect(screen.queryByText("Invitations")).toBeNull();
    const paths = get.mock.calls.map((call) => (call as unknown[])[0]);
    expect(paths).toContain("/api/v1/org/members");
    expect(paths).not.toContain("/api/v1/org/invitations");
  });
});
