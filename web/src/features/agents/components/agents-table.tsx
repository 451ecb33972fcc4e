"use client";

import { CalendarClock, Code, MousePointerClick, Webhook } from "lucide-react";
import Link from "next/link";

import { Skeleton } from "@/components/ui/skeleton";
import { TBody, THead, Table, Td, Th, Tr } from "@/components/ui/table";
import { formatDateTime } from "@/lib/utils";
import { since } from "@/lib/use-now";

import { TRIGGER_LABELS, builderHref } from "../filters";
import type { Agent } from "../queries";
import { AgentRowActions } from "./agent-row-actions";
import { AgentStatusBadge } from "./agent-status-badge";

const TRIGGER_ICONS: Record<string, typeof Webhook> = {
  manual: MousePointerClick,
  api: Code,
  webhook: Webhook,
  schedule: CalendarClock,
};

function TriggerCell({ type }: { type: string | null }) {
  if (!type) return <span className="text-muted-foreground">—</span>;
  const Icon = TRIGGER_ICONS[type];
  return (
    <span className="inline-flex items-center gap-1.5 whitespace-nowrap">
      {Icon && <Icon className="size-3.5 text-muted-foreground" aria-hidden />}
      {TRIGGER_LABELS[type] ?? type}
    </span>
  );
}

function Head() {
  return (
    <THead>
      <tr>
        <Th>Agent</Th>
        <Th className="w-28">Status</Th>
        <Th className="w-28">Trigger</Th>
        <Th className="hidden w-28 xl:table-cell">Version</Th>
        <Th className="w-32">Updated</Th>
        <Th className="w-14">
          <span className="sr-only">Actions</span>
        </Th>
      </tr>
    </THead>
  );
}

/** One row per agent; the whole row opens the builder (the name is the link), actions on the right. */
export function AgentsTable({ agents, now }: { agents: Agent[]; now: number }) {
  return (
    <Table aria-label="Agents">
      <Head />
      <TBody>
        {agents.map((agent) => (
          <Tr
            key={agent.id}
            className="relative focus-within:bg-muted/40"
            data-testid={`agent-${agent.id}`}
            data-status={agent.status}
          >
            <Td className="max-w-0">
              <Link
                id={`agent-name-${agent.id}`}
                href={builderHref(agent.id)}
                className="block truncate font-medium outline-none after:absolute after:inset-0 after:content-[''] focus-visible:underline"
              >
                {agent.name}
              </Link>
              <p className="truncate text-xs text-muted-foreground" title={agent.description ?? undefined}>
                {agent.description || "No description"}
              </p>
            </Td>
            <Td>
              <AgentStatusBadge status={agent.status} />
            </Td>
            <Td>
              <TriggerCell type={agent.trigger_type} />
            </Td>
            <Td className="hidden text-muted-foreground tabular-nums xl:table-cell">
              {agent.latest_version ? `v${agent.latest_version}` : "Unpublished"}
            </Td>
            <Td className="whitespace-nowrap text-muted-foreground" title={formatDateTime(agent.updated_at)}>
              {since(agent.updated_at, now)}
            </Td>
            <Td className="relative z-10 text-right">
              <AgentRowActions agent={agent} />
            </Td>
          </Tr>
        ))}
      </TBody>
    </Table>
  );
}

export function AgentsTableSkeleton({ rows = 6 }: { rows?: number }) {
  return (
    <Table aria-label="Loading agents" aria-busy>
      <Head />
      <TBody>
        {Array.from({ length: rows }, (_, index) => (
          <Tr key={index}>
            <Td>
              <Skeleton className="h-4 w-48" />
              <Skeleton className="mt-1.5 h-3 w-72" />
            </Td>
            <Td>
              <Skeleton className="h-5 w-16" />
            </Td>
            <Td>
              <Skeleton className="h-4 w-20" />
            </Td>
            <Td className="hidden xl:table-cell">
              <Skeleton className="h-4 w-10" />
            </Td>
            <Td>
              <Skeleton className="h-4 w-24" />
            </Td>
            <Td>
              <Skeleton className="ml-auto size-7" />
            </Td>
          </Tr>
        ))}
      </TBody>
    </Table>
  );
}
