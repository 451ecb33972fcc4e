"use client";

import { Lock } from "lucide-react";
import * as React from "react";

import { EmptyState } from "@/components/ui/empty-state";
import { useSession } from "@/lib/auth/session";

import { type SectionId, sectionById } from "../sections";

/** A section's title row, with its main action on the right. */
export function SectionHeader({ id, actions }: { id: SectionId; actions?: React.ReactNode }) {
  const section = sectionById(id);
  return (
    <div className="mb-5 flex flex-wrap items-start justify-between gap-4">
      <div className="grid gap-1">
        <h2 className="text-lg font-semibold tracking-tight">{section.label}</h2>
        <p className="text-sm text-muted-foreground">{section.description}</p>
      </div>
      {actions && <div className="flex items-center gap-2">{actions}</div>}
    </div>
  );
}

/** The section, or why it is not shown: a role without its permission never sees its data. */
export function SectionGate({ id, children }: { id: SectionId; children: React.ReactNode }) {
  const section = sectionById(id);
  const allowed = useSession((state) => state.me?.permissions?.includes(section.permission) ?? false);
  if (!allowed) {
    return (
      <EmptyState
        icon={Lock}
        title={`${section.label} is not available to your role`}
        description="Ask an admin or owner of this organization if you need access."
      />
    );
  }
  return <>{children}</>;
}
