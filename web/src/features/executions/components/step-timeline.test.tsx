import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import type { StepRow } from "../live";
import { StepTimeline } from "./step-timeline";

function row(overrides: Partial<StepRow>): StepRow {
  return {
    id: "s1",
    node_key: "start",
    step_order: 1,
    attempt: 1,
    status: "completed",
    input: null,
    output: null,
    error_message: null,
    tokens_used: 0,
    cost: "0",
    duration_ms: 5,
    started_at: null,
    completed_at: null,
    liveTokens: "",
    liveOnly: false,
    latest: true,
    ...overrides,
  };
}

const naming = {
  nodes: {
    draft: { id: "draft", type: "ai.chat", label: "Draft reply", config: {} },
    approve: { id: "approve", type: "human.approval", label: null, config: {} },
  },
  typeNames: { "ai.chat": "AI chat", "human.approval": "Human approval" },
  liveTypes: {},
};

function renderTimeline(rows: StepRow[]) {
  return render(
    <StepTimeline
      rows={rows}
      naming={naming}
      now={Date.parse("2026-01-01T00:00:05Z")}
      loading={false}
      hasMore={false}
      loadingMore={false}
      onLoadMore={() => {}}
      waitingToStart={false}
    />,
  );
}

afterEach(cleanup);

describe("StepTimeline", () => {
  it("gives each step a test id and status, named by label or type", () => {
    renderTimeline([
      row({ id: "s1", node_key: "draft", tokens_used: 1234, cost: "0.0123" }),
      row({ id: "s2", node_key: "approve", status: "waiting_approval", step_order: 2, duration_ms: 0 }),
    ]);
    const draft = screen.getByTestId("step-draft");
    expect(draft.dataset.status).toBe("completed");
    expect(within(draft).getByText("Draft reply")).toBeTruthy();
    expect(within(draft).getByText("1,234 tok")).toBeTruthy();
    expect(within(draft).getByText("$0.0123")).toBeTruthy();
    const approve = screen.getByTestId("step-approve");
    expect(approve.dataset.status).toBe("waiting_approval");
    expect(within(approve).getByText("Human approval")).toBeTruthy();
    // A waiting step has no duration yet (the API reports 0 ms for it).
    expect(within(approve).queryByText("0 ms")).toBeNull();
  });

  it("does not name its toggles after node ids (they would clash with Approve / Reject)", () => {
    renderTimeline([row({ id: "s2", node_key: "approve", input: { message: "ok?" } })]);
    expect(screen.queryByRole("button", { name: /approve/i })).toBeNull();
    expect(screen.getByRole("button", { name: "Show details" })).toBeTruthy();
  });

  it("folds input, output and error until asked", () => {
    renderTimeline([row({ node_key: "draft", input: { prompt: "Hi" }, output: { text: "Hello there" } })]);
    expect(screen.queryByText("Output")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Show details" }));
    expect(screen.getByText("Output")).toBeTruthy();
    expect(screen.getByText('"Hello there"')).toBeTruthy();
    expect(screen.getByRole("button", { name: "Hide details" }).getAttribute("aria-expanded")).toBe("true");
  });

  it("opens failed steps with their error", () => {
    renderTimeline([row({ node_key: "draft", status: "failed", error_message: "rate limited" })]);
    expect(screen.getByText("rate limited")).toBeTruthy();
  });

  it("streams AI text under a running step", () => {
    renderTimeline([row({ node_key: "draft", status: "running", liveTokens: "Dear Ada,", duration_ms: null })]);
    expect(screen.getByTestId("step-tokens").textContent).toBe("Dear Ada,");
  });
});
