import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const put = vi.fn();
const get = vi.fn();
vi.mock("@/lib/api/client", async () => {
  const { toApiError } = await import("@/lib/api/errors");
  return {
    api: { PUT: (...args: unknown[]) => put(...args), GET: (...args: unknown[]) => get(...args) },
    unwrap: async (call: Promise<{ data?: unknown; error?: unknown; response: Response }>) => {
      const result = await call;
      if (!result.response.ok) throw toApiError(result.response.status, result.error);
      return result.data;
    },
  };
});

import {
  AUTOSAVE_DELAY_MS,
  leaveAutosave,
  hasUnsavedChanges,
  overwriteTheirs,
  saveNow,
  startAutosave,
  stopAutosave,
  useSaveStore,
} from "./autosave";
import { parseCatalog } from "./catalog";
import { resetBuilderStore, useBuilderStore, useIssueStore } from "./store";
import { NODE_TYPES_FIXTURE } from "./test-fixtures";

function answer(status: number, body: unknown) {
  const ok = status < 400;
  return { data: ok ? body : undefined, error: ok ? undefined : body, response: new Response(null, { status }) };
}

function draft(revision: number, issues: unknown[] = []) {
  return answer(200, { definition: {}, revision, updated_at: null, updated_by: null, issues });
}

const store = () => useBuilderStore.getState();

beforeEach(() => {
  vi.useFakeTimers();
  put.mockReset();
  get.mockReset();
  resetBuilderStore();
  store().load({ schema_version: 1, nodes: [], edges: [] }, parseCatalog(NODE_TYPES_FIXTURE));
  startAutosave("agent-1", 4);
});
afterEach(() => {
  stopAutosave();
  vi.useRealTimers();
});

describe("autosave", () => {
  it("saves once, ~800 ms after the last change, with the revision it started from", async () => {
    put.mockResolvedValue(draft(5, [{ code: "NO_TRIGGER", message: "add a trigger" }]));
    store().addNode("transform.template", { x: 0, y: 0 });
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS - 100);
    store().updateLabel("template", "Hello");
    expect(useSaveStore.getState().status).toBe("pending");
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS - 100);
    expect(put).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(200);
    expect(put).toHaveBeenCalledTimes(1);
    const [path, options] = put.mock.calls[0] as [
      string,
      { body: { definition: { nodes: unknown[] }; revision: number } },
    ];
    expect(path).toBe("/api/v1/agents/{agent_id}/draft");
    expect(options.body.revision).toBe(4);
    expect(options.body.definition.nodes).toHaveLength(1);
    expect(useSaveStore.getState()).toMatchObject({ status: "saved", revision: 5 });
    expect(useIssueStore.getState().issues.map((issue) => issue.code)).toEqual(["NO_TRIGGER"]);
    expect(hasUnsavedChanges()).toBe(false);
  });

  it("saves edits made during a save right after it, from the new revision", async () => {
    let finish: (value: unknown) => void = () => {};
    put.mockImplementationOnce(() => new Promise((resolve) => (finish = resolve)));
    put.mockResolvedValueOnce(draft(6));
    store().addNode("transform.template", { x: 0, y: 0 });
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS);
    expect(useSaveStore.getState().status).toBe("saving");
    store().updateLabel("template", "During");
    finish(draft(5));
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS + 10);
    expect(put).toHaveBeenCalledTimes(2);
    expect((put.mock.calls[1]?.[1] as { body: { revision: number } }).body.revision).toBe(5);
    expect(useSaveStore.getState()).toMatchObject({ status: "saved", revision: 6 });
  });

  it("stops on a conflict until the user overwrites", async () => {
    put.mockResolvedValueOnce(
      answer(409, {
        error: { code: "DRAFT_CONFLICT", message: "Someone else saved", details: { current_revision: 9 } },
      }),
    );
    store().addNode("transform.template", { x: 0, y: 0 });
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS);
    expect(useSaveStore.getState()).toMatchObject({ status: "conflict", conflict: { currentRevision: 9 } });
    store().updateLabel("template", "More");
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS * 3);
    expect(put).toHaveBeenCalledTimes(1);
    expect(await saveNow()).toBe(false);

    get.mockResolvedValueOnce(draft(10));
    put.mockResolvedValueOnce(draft(11));
    expect(await overwriteTheirs()).toBe(true);
    expect((put.mock.calls[1]?.[1] as { body: { revision: number } }).body.revision).toBe(10);
    expect(useSaveStore.getState()).toMatchObject({ status: "saved", revision: 11, conflict: null });
  });

  it("reports a failed save and retries it", async () => {
    put.mockResolvedValueOnce(answer(503, { error: { code: "UNAVAILABLE", message: "Try later" } }));
    put.mockResolvedValueOnce(draft(5));
    store().addNode("transform.template", { x: 0, y: 0 });
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS);
    expect(useSaveStore.getState()).toMatchObject({ status: "error", error: "Try later" });
    expect(hasUnsavedChanges()).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(put).toHaveBeenCalledTimes(2);
    expect(useSaveStore.getState().status).toBe("saved");
  });

  it("does not save selection changes or a read-only graph", async () => {
    store().addNode("transform.template", { x: 0, y: 0 });
    put.mockResolvedValue(draft(5));
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS);
    expect(put).toHaveBeenCalledTimes(1);
    store().selectNode(null);
    store().selectAll();
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS * 2);
    expect(put).toHaveBeenCalledTimes(1);
  });

  it("on leaving, sends the graph as it was (not the reset store), after the save in flight", async () => {
    let finish: (value: unknown) => void = () => {};
    put.mockImplementationOnce(() => new Promise((resolve) => (finish = resolve)));
    put.mockResolvedValueOnce(draft(6));
    store().addNode("transform.template", { x: 0, y: 0 });
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS);
    store().addNode("ai.chat", { x: 0, y: 0 });
    leaveAutosave();
    resetBuilderStore();
    finish(draft(5));
    await vi.advanceTimersByTimeAsync(10);
    expect(put).toHaveBeenCalledTimes(2);
    const last = put.mock.calls[1]?.[1] as { body: { definition: { nodes: { id: string }[] }; revision: number } };
    expect(last.body.revision).toBe(5);
    expect(last.body.definition.nodes.map((node) => node.id)).toEqual(["template", "chat"]);
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS * 2);
    expect(put).toHaveBeenCalledTimes(2);
  });

  it("on leaving with nothing unsaved, sends nothing", async () => {
    leaveAutosave();
    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS * 2);
    expect(put).not.toHaveBeenCalled();
  });
});
