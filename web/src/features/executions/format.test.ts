import { describe, expect, it } from "vitest";

import {
  elapsedMs,
  errorText,
  formatCostCell,
  formatTokens,
  isTerminal,
  readApproval,
  runDuration,
  sinceText,
  triggerLabel,
} from "./format";

describe("formatting runs", () => {
  it("names triggers", () => {
    expect(triggerLabel("api")).toBe("API");
    expect(triggerLabel("test")).toBe("Test run");
    expect(triggerLabel("slack_event")).toBe("slack event");
    expect(triggerLabel(null)).toBe("—");
  });

  it("knows which statuses are final", () => {
    expect(isTerminal("completed")).toBe(true);
    expect(isTerminal("cancelled")).toBe(true);
    expect(isTerminal("waiting_approval")).toBe(false);
    expect(isTerminal(undefined)).toBe(false);
  });

  it("measures elapsed time, counting up while a run goes on", () => {
    const start = "2026-01-01T00:00:00.000Z";
    expect(elapsedMs(start, "2026-01-01T00:00:01.500Z")).toBe(1500);
    expect(elapsedMs(start, null, Date.parse("2026-01-01T00:00:03Z"))).toBe(3000);
    expect(elapsedMs(null, null)).toBeNull();
    // Clock skew between the server and the browser never shows a negative duration.
    expect(elapsedMs(start, null, Date.parse("2025-12-31T23:59:59Z"))).toBe(0);
  });

  it("shows a duration only for runs that are working or done", () => {
    const now = Date.parse("2026-01-01T00:00:02Z");
    const started = { started_at: "2026-01-01T00:00:00Z", completed_at: null };
    expect(runDuration({ ...started, status: "running" }, now)).toBe("2.00 s");
    expect(runDuration({ ...started, status: "waiting_approval" }, now)).toBe("—");
    expect(runDuration({ status: "pending", started_at: null, completed_at: null }, now)).toBe("—");
    expect(runDuration({ ...started, status: "completed", completed_at: "2026-01-01T00:00:00.250Z" }, now)).toBe(
      "250 ms",
    );
  });

  it("formats tokens and costs", () => {
    expect(formatTokens(0)).toBe("0");
    expect(formatTokens(12345)).toBe("12,345");
    expect(formatTokens(1_250_000)).toBe("1.3M");
    expect(formatCostCell("0.000000")).toBe("—");
    expect(formatCostCell("0.004200")).toBe("$0.004200");
    expect(formatCostCell("1.5")).toBe("$1.5000");
  });

  it("reads an error whatever its shape", () => {
    expect(errorText("boom")).toBe("boom");
    expect(errorText({ message: "bad gateway", code: "HTTP_502" })).toBe("bad gateway");
    expect(errorText({ code: "X" })).toBe('{"code":"X"}');
    expect(errorText(null)).toBeNull();
  });
});

describe("approval requests", () => {
  const approval = {
    kind: "approval",
    message: "Refund 240 USD to Grace Hopper?",
    node_id: "approve",
    step_id: "7719291e-f5ba-42ad-951c-d6bceea5c20d",
    approvers: ["owner", "admin"],
    requested_at: 1795505273.0135212,
    expires_at: 1795678073.0135212,
  };

  it("reads what the approval node asked", () => {
    expect(readApproval(approval)).toEqual({
      nodeId: "approve",
      stepId: "7719291e-f5ba-42ad-951c-d6bceea5c20d",
      message: "Refund 240 USD to Grace Hopper?",
      approvers: ["owner", "admin"],
      requestedAt: "2026-11-24T07:27:53.013Z",
      expiresAt: "2026-11-26T07:27:53.013Z",
    });
    expect(readApproval(null)).toBeNull();
    expect(readApproval({})).toEqual({
      nodeId: null,
      stepId: null,
      message: null,
      approvers: [],
      requestedAt: null,
      expiresAt: null,
    });
  });
});

describe("sinceText", () => {
  it("never puts a past event in the future when the server's clock runs ahead", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(sinceText("2026-01-01T00:00:01Z", now)).toBe(sinceText("2026-01-01T00:00:00Z", now));
    expect(sinceText("2025-12-31T23:57:00Z", now)).toContain("3 minutes ago");
    expect(sinceText(null, now)).toBe("—");
  });
});
