import {
  BookOpen,
  Box,
  CalendarClock,
  Code,
  FileText,
  GitBranch,
  LayoutTemplate,
  LifeBuoy,
  type LucideIcon,
  Merge,
  MessagesSquare,
  MousePointerClick,
  Newspaper,
  NotebookPen,
  Repeat,
  Reply,
  Route,
  ScanText,
  Siren,
  Sparkles,
  Split,
  Stamp,
  Tags,
  TextCursorInput,
  Ticket,
  Timer,
  UserCheck,
  UserPlus,
  Variable,
  Webhook,
  Wrench,
} from "lucide-react";

import { cn } from "@/lib/utils";

/**
 * Icons by the lucide name the API gives (templates' `icon`, node types' `icon`). A fixed map
 * rather than lucide's whole set keeps the bundle small; unknown names get a neutral icon.
 */
export const ICONS: Record<string, LucideIcon> = {
  "book-open": BookOpen,
  "calendar-clock": CalendarClock,
  code: Code,
  "file-text": FileText,
  "git-branch": GitBranch,
  "life-buoy": LifeBuoy,
  merge: Merge,
  "messages-square": MessagesSquare,
  "mouse-pointer-click": MousePointerClick,
  newspaper: Newspaper,
  "notebook-pen": NotebookPen,
  repeat: Repeat,
  reply: Reply,
  route: Route,
  "scan-text": ScanText,
  siren: Siren,
  sparkles: Sparkles,
  split: Split,
  stamp: Stamp,
  tags: Tags,
  "text-cursor-input": TextCursorInput,
  ticket: Ticket,
  timer: Timer,
  "user-check": UserCheck,
  "user-plus": UserPlus,
  variable: Variable,
  webhook: Webhook,
  wrench: Wrench,
};

/** The icon of each node kind, for steps whose node type the catalog does not name. */
export const KIND_ICONS: Record<string, LucideIcon> = {
  trigger: MousePointerClick,
  ai: Sparkles,
  action: Wrench,
  logic: GitBranch,
  flow: Reply,
  human: UserCheck,
  knowledge: BookOpen,
  transform: Variable,
};

/** Each node kind's accent, from the theme's tokens so it reads in light and dark. */
export const KIND_TONES: Record<string, string> = {
  trigger: "bg-success/15 text-success",
  ai: "bg-primary/12 text-primary",
  human: "bg-warning/20 text-amber-700 dark:text-warning",
  action: "bg-secondary text-secondary-foreground",
  logic: "bg-accent text-accent-foreground",
  flow: "bg-accent text-accent-foreground",
  transform: "bg-muted text-muted-foreground",
  knowledge: "bg-primary/12 text-primary",
};

/** A node type's icon: its catalog icon, else its kind's. */
export function StepIcon({ icon, kind, className }: { icon: string | undefined; kind: string; className?: string }) {
  const Icon = (icon ? ICONS[icon] : undefined) ?? KIND_ICONS[kind] ?? Box;
  return <Icon className={className} aria-hidden />;
}

export function TemplateIcon({ name, className }: { name: string | null | undefined; className?: string }) {
  const Icon = (name ? ICONS[name] : undefined) ?? LayoutTemplate;
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
