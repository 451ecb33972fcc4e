import { Archive, CircleDot, PauseCircle, PencilLine } from "lucide-react";

import { Badge, type BadgeProps } from "@/components/ui/badge";

import { type AgentStatus, STATUS_LABELS } from "../filters";

const LOOKS: Record<AgentStatus, { variant: BadgeProps["variant"]; Icon: typeof CircleDot }> = {
  active: { variant: "success", Icon: CircleDot },
  draft: { variant: "secondary", Icon: PencilLine },
  paused: { variant: "warning", Icon: PauseCircle },
  archived: { variant: "outline", Icon: Archive },
};

export function AgentStatusBadge({ status }: { status: AgentStatus }) {
  const { variant, Icon } = LOOKS[status] ?? LOOKS.draft;
  return (
    <Badge variant={variant} data-status={status}>
      <Icon className="size-3" aria-hidden />
      {STATUS_LABELS[status] ?? status}
    </Badge>
  );
}
