import { CheckCircle2, CircleDashed, Clock, Hand, Loader2, MinusCircle, PauseCircle, XCircle } from "lucide-react";

import { Badge, type BadgeProps } from "./badge";

type Look = { label: string; variant: BadgeProps["variant"]; Icon: typeof Clock; spin?: boolean };

/** Execution and step statuses as the API names them (ExecutionStatus, step status). */
const LOOKS: Record<string, Look> = {
  queued: { label: "Queued", variant: "secondary", Icon: Clock },
  pending: { label: "Pending", variant: "secondary", Icon: CircleDashed },
  running: { label: "Running", variant: "default", Icon: Loader2, spin: true },
  waiting_approval: { label: "Waiting approval", variant: "warning", Icon: Hand },
  parked: { label: "Waiting", variant: "secondary", Icon: PauseCircle },
  completed: { label: "Completed", variant: "success", Icon: CheckCircle2 },
  failed: { label: "Failed", variant: "destructive", Icon: XCircle },
  cancelled: { label: "Cancelled", variant: "outline", Icon: MinusCircle },
  skipped: { label: "Skipped", variant: "outline", Icon: MinusCircle },
  interrupted: { label: "Interrupted", variant: "outline", Icon: PauseCircle },
  retrying: { label: "Retrying", variant: "warning", Icon: Loader2, spin: true },
};

export function StatusBadge({ status, className }: { status: string; className?: string }) {
  const look = LOOKS[status] ?? { label: status, variant: "outline" as const, Icon: CircleDashed };
  const { Icon } = look;
  return (
    <Badge variant={look.variant} className={className} data-status={status}>
      <Icon className={look.spin ? "size-3 animate-spin" : "size-3"} aria-hidden />
      {look.label}
    </Badge>
  );
}

export const TERMINAL_STATUSES = new Set(["completed", "failed", "cancelled"]);
