import { CalendarClock, Code2, FlaskConical, MousePointerClick, Webhook, Zap } from "lucide-react";

import { Badge } from "@/components/ui/badge";
import { cn } from "@/lib/utils";

import { triggerLabel } from "../format";

const ICONS = { manual: MousePointerClick, api: Code2, webhook: Webhook, schedule: CalendarClock, test: FlaskConical };

/** How a run started, with a "Test" badge for dry runs of the draft. */
export function TriggerCell({
  triggeredBy,
  isTest,
  className,
}: {
  triggeredBy: string | null;
  isTest: boolean;
  className?: string;
}) {
  const Icon = ICONS[(triggeredBy ?? "") as keyof typeof ICONS] ?? Zap;
  return (
    <span className={cn("inline-flex items-center gap-1.5 whitespace-nowrap", className)}>
      {triggeredBy === "test" ? (
        <Badge variant="secondary">
          <FlaskConical className="size-3" aria-hidden />
          Test run
        </Badge>
      ) : (
        <>
          <Icon className="size-3.5 text-muted-foreground" aria-hidden />
          <span>{triggerLabel(triggeredBy)}</span>
          {isTest && <Badge variant="secondary">Test</Badge>}
        </>
      )}
    </span>
  );
}
