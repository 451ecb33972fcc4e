"use client";

import Link from "next/link";

import { Skeleton } from "@/components/ui/skeleton";
import { StatusBadge } from "@/components/ui/status-badge";
import { TBody, THead, Table, Td, Th, Tr } from "@/components/ui/table";
import { formatDateTime } from "@/lib/utils";

import { formatCostCell, formatTokens, runDuration, sinceText } from "../format";
import { type Execution, useAgentName } from "../queries";
import { TriggerCell } from "./trigger-cell";

const COLUMNS = ["Status", "Agent", "Version", "Trigger", "Started", "Duration", "Tokens", "Cost"] as const;
const NUMERIC = new Set(["Duration", "Tokens", "Cost"]);

export function executionHref(id: string): string {
  return `/executions/detail/?id=${encodeURIComponent(id)}`;
}

function AgentName({ agentId }: { agentId: string }) {
  const name = useAgentName(agentId);
  return name ? <>{name}</> : <Skeleton className="inline-block h-4 w-32 align-middle" />;
}

function Head() {
  return (
    <THead>
      <tr>
        {COLUMNS.map((column) => (
          <Th key={column} className={NUMERIC.has(column) ? "text-right" : undefined}>
            {column}
          </Th>
        ))}
      </tr>
    </THead>
  );
}

/** Runs, newest first; the whole row opens the run (its agent name is the link). */
export function ExecutionsTable({ executions, now }: { executions: Execution[]; now: number }) {
  return (
    <Table aria-label="Executions">
      <Head />
      <TBody>
        {executions.map((run) => (
          <Tr
            key={run.id}
            className="relative cursor-pointer focus-within:bg-muted/40"
            data-testid={`execution-${run.id}`}
            data-status={run.status}
          >
            <Td className="w-40">
              <StatusBadge status={run.status} />
            </Td>
            <Td className="max-w-64 font-medium">
              <Link
                href={executionHref(run.id)}
                className="block truncate outline-none after:absolute after:inset-0 after:content-[''] focus-visible:underline"
              >
                <AgentName agentId={run.agent_id} />
              </Link>
            </Td>
            <Td className="text-muted-foreground tabular-nums">
              {run.agent_version ? `v${run.agent_version}` : "Draft"}
            </Td>
            <Td>
              <TriggerCell triggeredBy={run.triggered_by} isTest={run.is_test} />
            </Td>
            <Td
              className="whitespace-nowrap text-muted-foreground"
              title={formatDateTime(run.started_at ?? run.created_at)}
            >
              {run.started_at ? sinceText(run.started_at, now) : `Created ${sinceText(run.created_at, now)}`}
            </Td>
            <Td className="text-right whitespace-nowrap tabular-nums">{runDuration(run, now)}</Td>
            <Td className="text-right tabular-nums">{run.total_tokens ? formatTokens(run.total_tokens) : "—"}</Td>
            <Td className="text-right tabular-nums">{formatCostCell(run.total_cost)}</Td>
          </Tr>
        ))}
      </TBody>
    </Table>
  );
}

/** The table's shape while the first page loads, so nothing jumps when it arrives. */
export function ExecutionsTableSkeleton({ rows = 8 }: { rows?: number }) {
  return (
    <Table aria-label="Loading executions" aria-busy>
      <Head />
      <TBody>
        {Array.from({ length: rows }, (_, index) => (
          <Tr key={index} className="hover:bg-transparent">
            <Td>
              <Skeleton className="h-5 w-24" />
            </Td>
            <Td>
              <Skeleton className="h-4 w-40" />
            </Td>
            <Td>
              <Skeleton className="h-4 w-8" />
            </Td>
            <Td>
              <Skeleton className="h-4 w-20" />
            </Td>
            <Td>
              <Skeleton className="h-4 w-24" />
            </Td>
            {[0, 1, 2].map((cell) => (
              <Td key={cell}>
                <Skeleton className="ml-auto h-4 w-12" />
              </Td>
            ))}
          </Tr>
        ))}
      </TBody>
    </Table>
  );
}
