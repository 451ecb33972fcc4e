import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import * as React from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const post = vi.fn();
vi.mock("@/lib/api/client", async () => {
  const { toApiError } = await import("@/lib/api/errors");
  return {
    api: { POST: (...args: unknown[]) => post(...args) },
    unwrap: async (call: Promise<{ data?: unknown; error?: unknown; response: Response }>) => {
      const result = await call;
      if (!result.response.ok) throw toApiError(result.response.status, result.error);
      return result.data;
    },
  };
});

import { ApprovalForm } from "./approval-form";

function renderForm(props: Partial<React.ComponentProps<typeof ApprovalForm>> = {}) {
  const client = new QueryClient({ defaultOptions: { mutations: { retry: false } } });
  const onConflict = vi.fn();
  const onDecided = vi.fn();
  render(
    <QueryClientProvider client={client}>
      <ApprovalForm executionId="e1" onConflict={onConflict} onDecided={onDecided} {...props} />
    </QueryClientProvider>,
  );
  return { onConflict, onDecided };
}

function answer(status: number, body: unknown) {
  const ok = status < 400;
  return { data: ok ? body : undefined, error: ok ? undefined : body, response: new Response(null, { status }) };
}

beforeEach(() => post.mockReset());
afterEach(cleanup);

describe("ApprovalForm", () => {
  it("approves with the comment, by the buttons' names", async () => {
    post.mockResolvedValue(answer(200, { id: "e1", status: "pending" }));
    const { onDecided } = renderForm();
    fireEvent.change(screen.getByLabelText("Comment"), { target: { value: "  Ship it  " } });
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(onDecided).toHaveBeenCalledWith("approve", { id: "e1", status: "pending" }));
    expect(post).toHaveBeenCalledWith("/api/v1/executions/{execution_id}/approve", {
      params: { path: { execution_id: "e1" } },
      body: { decision: "approve", comment: "Ship it" },
    });
    expect(screen.getByLabelText("Comment")).toHaveProperty("value", "");
  });

  it("rejects without a comment", async () => {
    post.mockResolvedValue(answer(200, { id: "e1", status: "pending" }));
    renderForm();
    fireEvent.click(screen.getByRole("button", { name: "Reject" }));
    await waitFor(() => expect(post).toHaveBeenCalled());
    expect(post.mock.calls[0]?.[1]).toMatchObject({ body: { decision: "reject", comment: null } });
  });

  it("hands a 409 (someone else decided) to the caller", async () => {
    post.mockResolvedValue(
      answer(409, {
        error: { code: "NOT_WAITING_APPROVAL", message: "This execution is not waiting for an approval" },
      }),
    );
    const { onConflict, onDecided } = renderForm();
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(onConflict).toHaveBeenCalledWith("This execution is not waiting for an approval"));
    expect(onDecided).not.toHaveBeenCalled();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows any other refusal inline, with the API's message", async () => {
    post.mockResolvedValue(
      answer(403, { error: { code: "NOT_AN_APPROVER", message: "You are not one of this approval's approvers" } }),
    );
    const { onConflict } = renderForm();
    fireEvent.click(screen.getByRole("button", { name: "Reject" }));
    expect((await screen.findByRole("alert")).textContent).toBe("You are not one of this approval's approvers");
    expect(onConflict).not.toHaveBeenCalled();
    // The buttons are usable again for another try.
    expect(screen.getByRole("button", { name: "Approve" })).toHaveProperty("disabled", false);
  });
});
