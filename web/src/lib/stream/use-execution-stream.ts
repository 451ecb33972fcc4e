"use client";

/**
 * Watch one execution live over `WS /api/v1/executions/{id}/stream`. The access token travels as
 * a WebSocket subprotocol (never in the URL). After a dropped connection it reconnects with
 * `last_seq`, so the server replays exactly what was missed; it stops after the terminal event.
 */
import * as React from "react";

import { accessToken } from "@/lib/auth/session";

import {
  EMPTY_VIEW,
  type ExecutionView,
  type SnapshotMessage,
  type StreamEvent,
  TERMINAL_EVENTS,
  applyEvent,
  applySnapshot,
} from "./reducer";

export type StreamState = "idle" | "connecting" | "live" | "reconnecting" | "closed" | "error";

const NORMAL_CLOSE = 1000;
const TOO_SLOW = 4008;
const MAX_BACKOFF_MS = 10_000;

function streamUrl(executionId: string, lastSeq: number): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const query = lastSeq > 0 ? `?last_seq=${lastSeq}` : "";
  return `${scheme}//${window.location.host}/api/v1/executions/${executionId}/stream${query}`;
}

export function useExecutionStream(executionId: string | null | undefined): {
  view: ExecutionView;
  state: StreamState;
  error: string | null;
} {
  // Everything is kept per execution id: switching to another execution shows a clean view at
  // once, without resetting state inside the effect.
  const [current, setCurrent] = React.useState<{
    id: string;
    view: ExecutionView;
    state: StreamState;
    error: string | null;
  }>({ id: "", view: EMPTY_VIEW, state: "idle", error: null });

  React.useEffect(() => {
    if (!executionId) return;
    const id = executionId;
    let socket: WebSocket | null = null;
    let stopped = false;
    let lastSeq = 0;
    let attempts = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const update = (
      change: (previous: {
        view: ExecutionView;
        state: StreamState;
        error: string | null;
      }) => Partial<{ view: ExecutionView; state: StreamState; error: string | null }>,
    ) =>
      setCurrent((previous) => {
        const base =
          previous.id === id ? previous : { id, view: EMPTY_VIEW, state: "idle" as StreamState, error: null };
        return { ...base, ...change(base) };
      });
    const setState = (state: StreamState) => update(() => ({ state }));
    const setError = (error: string) => update(() => ({ state: "error", error }));

    async function connect() {
      setState(lastSeq > 0 ? "reconnecting" : "connecting");
      const token = await accessToken();
      if (stopped) return;
      if (!token) {
        setError("Your session has ended. Sign in again.");
        return;
      }
      socket = new WebSocket(streamUrl(id, lastSeq), ["agentflow.v1", `bearer.${token}`]);
      socket.onopen = () => {
        attempts = 0;
        setState("live");
      };
      socket.onmessage = (message: MessageEvent<string>) => {
        const parsed = JSON.parse(message.data) as SnapshotMessage | StreamEvent;
        if (parsed.type === "snapshot") {
          const snapshot = parsed as SnapshotMessage;
          // A reconnect's snapshot must not wipe streamed tokens: keep the view, move the seq.
          if (lastSeq === 0) update(() => ({ view: applySnapshot(snapshot) }));
          lastSeq = Math.max(lastSeq, snapshot.seq);
          return;
        }
        const event = parsed as StreamEvent;
        lastSeq = Math.max(lastSeq, event.seq);
        update((previous) => ({ view: applyEvent(previous.view, event) }));
      };
      socket.onclose = (close) => {
        socket = null;
        if (stopped) return;
        if (close.code === NORMAL_CLOSE) {
          setState("closed");
          return;
        }
        if (close.code >= 4400 && close.code < 4500 && close.code !== 4429) {
          setError(close.reason || "The live stream was refused.");
          return;
        }
        // Dropped, too slow (4008) or rate-limited: resume from the last seq after a pause.
        attempts += 1;
        const delay = close.code === TOO_SLOW ? 0 : Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempts);
        setState("reconnecting");
        timer = setTimeout(() => void connect(), delay);
      };
    }

    void connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      socket?.close(NORMAL_CLOSE);
    };
  }, [executionId]);

  if (!executionId || current.id !== executionId) return { view: EMPTY_VIEW, state: "idle", error: null };
  const { view, state, error } = current;
  const finished = view.events.some((event) => TERMINAL_EVENTS.has(event.type));
  return { view, state: finished && state === "live" ? "closed" : state, error };
}
