import { Workflow } from "lucide-react";

export function Logo({ className, compact = false }: { className?: string; compact?: boolean }) {
  return (
    <span className={className}>
      <span className="inline-flex items-center gap-2 font-semibold tracking-tight">
        <span className="flex size-7 items-center justify-center rounded-lg bg-primary text-primary-foreground">
          <Workflow className="size-4" aria-hidden />
        </span>
        <span className={compact ? "sr-only" : undefined}>AgentFlow</span>
      </span>
    </span>
  );
}
