"use client";

import * as React from "react";

import { timeAgo } from "@/lib/utils";

/**
 * The current time, ticking every `intervalMs` while `active`: "5 minutes ago" stays true on an
 * open page (a minute is enough), and a running step's duration counts up (a second).
 */
export function useNow(intervalMs = 60_000, active = true): number {
  const [now, setNow] = React.useState(() => Date.now());
  React.useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, active]);
  return now;
}

/** "3 minutes ago" against a clock that may lag a just-written timestamp: never "in 1 second". */
export function since(iso: string | null | undefined, now: number): string {
  if (!iso) return timeAgo(iso);
  const at = Date.parse(iso);
  return timeAgo(iso, Number.isFinite(at) ? Math.max(now, at) : now);
}
