"use client";

/**
 * The test run being watched: its execution id, the live view from the stream, and each node's
 * status kept apart from the canvas nodes, so a status change re-renders that node only.
 */
import { create } from "zustand";

import { EMPTY_VIEW, type ExecutionView } from "@/lib/stream/reducer";
import type { StreamState } from "@/lib/stream/use-execution-stream";

/** A node not to run in the test, with the output (JSON text) and handle to use instead. */
export interface Pin {
  key: number;
  nodeId: string;
  outputText: string;
  handle: string;
}

export interface RunState {
  /** The test-run form, kept here so it survives switching panels. */
  triggerText: string;
  pins: Pin[];
  setTriggerText: (text: string) => void;
  setPins: (pins: Pin[]) => void;
  executionId: string | null;
  view: ExecutionView;
  streamState: StreamState;
  statuses: Record<string, string>;
  start: (executionId: string) => void;
  clear: () => void;
  update: (view: ExecutionView, streamState: StreamState) => void;
}

/** Node statuses from the view; the previous map is kept when nothing changed. */
export function statusesOf(view: ExecutionView, previous: Record<string, string>): Record<string, string> {
  const next: Record<string, string> = {};
  let changed = false;
  for (const [nodeId, run] of Object.entries(view.nodes)) {
    next[nodeId] = run.status;
    if (previous[nodeId] !== run.status) changed = true;
  }
  if (!changed && Object.keys(previous).length === Object.keys(next).length) return previous;
  return next;
}

export const useRunStore = create<RunState>()((set, get) => ({
  triggerText: "{}",
  pins: [],
  setTriggerText: (triggerText) => set({ triggerText }),
  setPins: (pins) => set({ pins }),
  executionId: null,
  view: EMPTY_VIEW,
  streamState: "idle",
  statuses: {},
  start: (executionId) => set({ executionId, view: EMPTY_VIEW, streamState: "connecting", statuses: {} }),
  clear: () =>
    set({ executionId: null, view: EMPTY_VIEW, streamState: "idle", statuses: {}, triggerText: "{}", pins: [] }),
  update: (view, streamState) => set({ view, streamState, statuses: statusesOf(view, get().statuses) }),
}));
