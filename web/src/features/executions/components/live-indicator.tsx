import type { StreamState } from "@/lib/stream/use-execution-stream";
import { Tooltip } from "@/components/ui/tooltip";
import { cn } from "@/lib/utils";

const LOOKS: Partial<Record<StreamState, { label: string; dot: string; hint: string }>> = {
  connecting: { label: "Connecting", dot: "bg-muted-foreground", hint: "Opening the live stream…" },
  live: { label: "Live", dot: "bg-success animate-pulse", hint: "Updates arrive as the run goes." },
  reconnecting: {
    label: "Reconnecting",
    dot: "bg-warning animate-pulse",
    hint: "The live stream dropped; resuming where it left off.",
  },
  error: {
    label: "Not live",
    dot: "bg-destructive",
    hint: "The live stream is unavailable; the page refreshes every few seconds instead.",
  },
};

/** Whether the page follows the run live; nothing once the run has finished. */
export function LiveIndicator({ state, error }: { state: StreamState; error?: string | null }) {
  const look = LOOKS[state];
  if (!look) return null;
  return (
    <Tooltip content={error && state === "error" ? `${error} ${look.hint}` : look.hint}>
      <span
        className="inline-flex items-center gap-1.5 rounded-full border bg-background px-2 py-0.5 text-xs font-medium text-muted-foreground"
        role="status"
        tabIndex={0}
        data-testid="live-indicator"
        data-state={state}
      >
        <span className={cn("size-1.5 rounded-full", look.dot)} aria-hidden />
        {look.label}
      </span>
    </Tooltip>
  );
}
