import {
  BookOpen,
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
 * Template icons by the lucide name the API gives (a template's `icon`). A fixed map rather than
 * lucide's whole set keeps the bundle small; unknown names get a generic one.
 */
const ICONS: Record<string, LucideIcon> = {
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
