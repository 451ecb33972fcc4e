/** A node type's icon and its family's accent, wherever node types are shown (the builder, template steps). */
import {
  BookOpen,
  Box,
  GitBranch,
  type LucideIcon,
  MousePointerClick,
  Reply,
  Sparkles,
  UserCheck,
  Variable,
  Wrench,
} from "lucide-react";

import { NAMED_ICONS } from "@/components/named-icons";
import { cn } from "@/lib/utils";

// A node type without an icon of its own gets its family's.
const FAMILY_ICONS: Record<string, LucideIcon> = {
  trigger: MousePointerClick,
  ai: Sparkles,
  action: Wrench,
  logic: GitBranch,
  flow: Reply,
  human: UserCheck,
  knowledge: BookOpen,
  transform: Variable,
};

/** Each family's accent, from the theme tokens so it reads in light and dark. */
export const FAMILY_TONES: Record<string, string> = {
  trigger: "bg-success/15 text-success",
  ai: "bg-primary/12 text-primary",
  human: "bg-warning/20 text-amber-700 dark:text-warning",
  action: "bg-secondary text-secondary-foreground",
  logic: "bg-accent text-accent-foreground",
  flow: "bg-accent text-accent-foreground",
  transform: "bg-muted text-muted-foreground",
  knowledge: "bg-primary/12 text-primary",
};

/** The catalog's icon for a node type, else its family's, else a neutral box; bare. */
export function NodeGlyph({
  icon,
  family,
  className,
}: {
  icon: string | undefined;
  family: string;
  className?: string;
}) {
  const Icon = (icon ? NAMED_ICONS[icon] : undefined) ?? FAMILY_ICONS[family] ?? Box;
  return <Icon className={className} aria-hidden />;
}

/** The same on its family's tinted square. */
export function NodeIcon({
  icon,
  family,
  className,
  iconClassName,
}: {
  icon: string | undefined;
  family: string;
  className?: string;
  iconClassName?: string;
}) {
  return (
    <span
      className={cn(
        "flex size-8 shrink-0 items-center justify-center rounded-md",
        FAMILY_TONES[family] ?? "bg-muted",
        className,
      )}
    >
      {/* overflow-visible: an SVG that clips is one more paint chunk per canvas node, every frame */}
      <NodeGlyph icon={icon} family={family} className={cn("size-4 overflow-visible", iconClassName)} />
    </span>
  );
}
