import { act, cleanup, fireEvent, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { api } from "@/lib/api/client";

import { ADMIN_PERMISSIONS, EDITOR_PERMISSIONS, answer, failure, renderWithClient, signIn } from "../test-utils";
import { CreateApiKeyDialog } from "./create-api-key-dialog";

vi.mock("@/lib/api/client", async (importActual) => {
  const actual = await importActual<typeof import("@/lib/api/client")>();
  return { ...actual, api: { GET: vi.fn(), POST: vi.fn(), PUT: vi.fn(), DELETE: vi.fn() } };
});

const post = vi.mocked(api.POST);
const created = {
  id: "k1",
  name: "CI deploys",
  prefix: "af_live_abc",
  scopes: ["agents:read", "agents:write", "executions:read", "executions:write"],
  created_by: "u-me",
  created_at: "2026-03-01T00:00:00Z",
  last_used_at: null,
  expires_at: null,
  status: "active",
  key: "af_live_abcdefghijklmnopqrstuvwxyz",
};

const writeText = vi.fn<(text: string) => Promise<void>>();

beforeEach(() => {
  post.mockReset();
  writeText.mockReset().mockResolvedValue(undefined);
  Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
});
afterEach(cleanup);

describe("CreateApiKeyDialog", () => {
  it("offers only the scopes the role can grant, with the defaults ticked", () => {
    signIn("editor", EDITOR_PERMISSIONS);
    renderWithClient(<CreateApiKeyDialog open onOpenChange={() => {}} />);
    const checkbox = (name: string) => screen.getByRole("checkbox", { name: new RegExp(name) }) as HTMLInputElement;
    expect(checkbox("Read agents").checked).toBe(true);
    expect(checkbox("Edit agents").checked).toBe(true);
    expect(checkbox("Read executions").checked).toBe(true);
    expect(checkbox("Run agents").checked).toBe(false);
    expect(checkbox("Archive agents").disabled).toBe(true);
    expect(checkbox("Read audit log").disabled).toBe(true);
  });

  it("creates the key, reveals it once with a copy button, and forgets it on close", async () => {
    signIn("admin", ADMIN_PERMISSIONS);
    post.mockReturnValue(answer(created, 201) as never);
    const onOpenChange = vi.fn();
    const { rerender } = renderWithClient(<CreateApiKeyDialog open onOpenChange={onOpenChange} />);

    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "  CI deploys " } });
    fireEvent.click(screen.getByRole("checkbox", { name: /Run agents/ }));
    fireEvent.click(screen.getByRole("button", { name: "Create key" }));

    const secret = await screen.findByTestId("api-key-secret");
    expect(secret.textContent).toBe(created.key);
    expect(screen.getByText(/won.t see this key again/i)).toBeTruthy();
    expect(post).toHaveBeenCalledWith("/api/v1/org/api-keys", {
      body: {
        name: "CI deploys",
        scopes: ["agents:read", "agents:write", "executions:read", "executions:write"],
        expires_at: null,
      },
    });

    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Copy" })));
    expect(writeText).toHaveBeenCalledWith(created.key);
    expect(screen.getByRole("button", { name: "Copied" })).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Done" }));
    expect(onOpenChange).toHaveBeenCalledWith(false);
    rerender(<CreateApiKeyDialog open={false} onOpenChange={onOpenChange} />);
    rerender(<CreateApiKeyDialog open onOpenChange={onOpenChange} />);
    expect(screen.queryByTestId("api-key-secret")).toBeNull();
    expect(document.body.textContent).not.toContain(created.key);
    expect(screen.getByRole("button", { name: "Create key" })).toBeTruthy();
  });

  it("checks the form before calling the API", () => {
    signIn("admin", ADMIN_PERMISSIONS);
    renderWithClient(<CreateApiKeyDialog open onOpenChange={() => {}} />);
    for (const name of [/Read agents/, /Edit agents/, /Read executions/]) {
      fireEvent.click(screen.getByRole("checkbox", { name }));
    }
    fireEvent.click(screen.getByRole("button", { name: "Create key" }));
    expect(screen.getByText(/Name the key/)).toBeTruthy();
    expect(screen.getByText("Choose at least one scope.")).toBeTruthy();
    expect(post).not.toHaveBeenCalled();
  });

  it("shows the server's refusal in the form", async () => {
    signIn("admin", ADMIN_PERMISSIONS);
    post.mockReturnValue(
      failure(403, {
        error: { code: "SCOPE_EXCEEDS_ROLE", message: "A key cannot have scopes beyond what your role allows" },
      }) as never,
    );
    renderWithClient(<CreateApiKeyDialog open onOpenChange={() => {}} />);
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "x" } });
    fireEvent.click(screen.getByRole("button", { name: "Create key" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "A key cannot have scopes beyond what your role allows",
    );
    expect(screen.queryByTestId("api-key-secret")).toBeNull();
  });
});
