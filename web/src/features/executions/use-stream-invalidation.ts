"use client";

import { useQueryClient } from "@tanstack/react-query";
import * as React from "react";

import type { ExecutionView } from "@/lib/stream/reducer";

import { staleAfter } from "./live";
import { executionKeys } from "./queries";

/** Coalesces a burst of events (a fast run emits dozens a second) into one refetch per read. */
const SETTLE_MS = 250;

/**
 * Keeps the REST reads of one execution in step with its live stream: each event that changes
 * stored state (a step finished, the run moved) refetches the affected reads, batched.
 */
export function useStreamInvalidation(id: string, view: ExecutionView): void {
  const queryClient = useQueryClient();
  const handled = React.useRef(0);
  const pending = React.useRef({ execution: false, steps: false, logs: false });
  const timer = React.useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  React.useEffect(
    () => () => {
      clearTimeout(timer.current);
      timer.current = undefined;
    },
    [],
  );

  React.useEffect(() => {
    if (view.lastSeq <= handled.current) return;
    const firstContact = handled.current === 0;
    const fresh = view.events.filter((event) => event.seq > handled.current);
    handled.current = view.lastSeq;
    const stale = staleAfter(fresh);
    if (firstContact) {
      // The snapshot may know steps this page's first read missed (it opened mid-run).
      stale.execution = true;
      stale.steps = true;
    }
    const queued = pending.current;
    queued.execution ||= stale.execution;
    queued.steps ||= stale.steps;
    queued.logs ||= stale.logs;
    // A throttle, not a debounce: a steady flow of token events must not postpone it forever.
    if (timer.current !== undefined || (!queued.execution && !queued.steps && !queued.logs)) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      const { execution, steps, logs } = pending.current;
      pending.current = { execution: false, steps: false, logs: false };
      if (execution) void queryClient.invalidateQueries({ queryKey: executionKeys.detail(id) });
      if (steps) void queryClient.invalidateQueries({ queryKey: executionKeys.steps(id) });
      if (logs) void queryClient.invalidateQueries({ queryKey: executionKeys.logs(id) });
      if (execution) void queryClient.invalidateQueries({ queryKey: executionKeys.pendingApprovalsAll });
    }, SETTLE_MS);
  }, [id, view, queryClient]);
}
