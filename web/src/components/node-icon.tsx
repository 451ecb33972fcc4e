import {
  BookOpen,
  Box,
  CalendarClock,
  Code,
  FileText,
  GitBranch,
  type LucideIcon,
  Merge,
  MousePointerClick,
  Repeat,
  Reply,
  ScanText,
  Sparkles,
  Split,
  Tags,
  TextCursorInput,
  Timer,
  UserCheck,
  Variable,
  Webhook,
  Wrench,
} from "lucide-react";

import { cn } from "@/lib/utils";

/**
 * A node type's icon and its family's accent, wherever node types are shown (the builder, template
 * steps). Icons by the lucide name the catalog gives; a fixed map keeps the bundle small.
 */
const ICONS: Record<string, LucideIcon> = {
  "book-open": BookOpen,
  "calendar-clock": CalendarClock,
  code: Code,
  "file-text": FileText,
  "git-branch": GitBranch,
  merge: Merge,
  "mouse-pointer-click": MousePointerClick,
  repeat: Repeat,
  reply: Reply,
  "scan-text": ScanText,
  sparkles: Sparkles,
  split: Split,
  tags: Tags,
  "text-cursor-input": TextCursorInput,
  timer: Timer,
  "user-check": UserCheck,
  variable: Variable,
  webhook: Webhook,
  wrench: Wrench,
};

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
  const Icon = (icon ? ICONS[icon] : undefined) ?? FAMILY_ICONS[family] ?? Box;
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
