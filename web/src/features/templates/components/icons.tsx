import { LayoutTemplate } from "lucide-react";

import { NAMED_ICONS } from "@/components/named-icons";
import { cn } from "@/lib/utils";

/** A template's icon (its `icon`, a lucide name), or a generic one, on a tinted square. */
export function TemplateIcon({ name, className }: { name: string | null | undefined; className?: string }) {
  const Icon = (name ? NAMED_ICONS[name] : undefined) ?? LayoutTemplate;
  return (
    <div
      className={cn(
        "flex size-10 shrink-0 items-center justify-center rounded-lg bg-primary/10 text-primary",
        className,
      )}
    >
      <Icon className="size-5" aria-hidden />
    </div>
  );
}
