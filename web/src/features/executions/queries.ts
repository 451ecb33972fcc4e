"use client";

/** Server state of the executions pages (TanStack Query): keys, reads and actions. */
import {
  type InfiniteData,
  type QueryClient,
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";

import { api, type Schemas, unwrap } from "@/lib/api/client";
import type { Execution, Step } from "@/lib/stream/reducer";

import { type ExecutionFilters, filtersToQuery } from "./filters";
import { isTerminal } from "./format";
import type { ExecutionRead } from "./live";

export type Log = Schemas["LogOut"];
export type Agent = Schemas["AgentOut"];
type Page<T> = { items: T[]; next_cursor?: string | null };

const LIST_PAGE = 25;
const CHILD_PAGE = 100;
/** The list polls while a visible run is still going: cheap, and right even without a stream. */
export const LIST_POLL_MS = 2500;
/** Runs that only wait (for a person, a delay) change rarely: poll them more gently. */
export const LIST_IDLE_POLL_MS = 10_000;
const WAITING = new Set(["waiting_approval", "parked"]);

/** How often the list refetches: fast while a visible run works, gently while runs only wait. */
export function listPollInterval(runs: readonly { status: string }[]): number | false {
  const going = runs.filter((run) => !isTerminal(run.status));
  if (going.length === 0) return false;
  return going.some((run) => !WAITING.has(run.status)) ? LIST_POLL_MS : LIST_IDLE_POLL_MS;
}

export const executionKeys = {
  all: ["executions"] as const,
  list: (filters: ExecutionFilters) => ["executions", "list", filters] as const,
  detail: (id: string) => ["executions", "detail", id] as const,
  steps: (id: string) => ["executions", "steps", id] as const,
  logs: (id: string) => ["executions", "logs", id] as const,
  // Shares its prefix with the app shell's badge count, so one invalidation refreshes both.
  pendingApprovals: ["executions", "pending-approvals", "list"] as const,
  pendingApprovalsAll: ["executions", "pending-approvals"] as const,
  agents: ["executions", "agents"] as const,
  agent: (id: string) => ["executions", "agents", id] as const,
  nodeTypes: ["executions", "node-types"] as const,
  definition: (agentId: string, version: number | null) =>
    ["executions", "definition", agentId, version ?? "draft"] as const,
};

export function flattenPages<T>(data: InfiniteData<Page<T>> | undefined): T[] {
  return data?.pages.flatMap((page) => page.items) ?? [];
}

export function useExecutionList(filters: ExecutionFilters) {
  return useInfiniteQuery({
    queryKey: executionKeys.list(filters),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/executions", {
          params: { query: { ...filtersToQuery(filters), limit: LIST_PAGE, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
    refetchInterval: (query) => listPollInterval(flattenPages(query.state.data)),
  });
}

/** The org's agents, for names and the agent filter (archived ones too: their runs still show). */
export function useAgents() {
  return useQuery({
    queryKey: executionKeys.agents,
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/agents", {
          params: { query: { limit: 100, include_archived: true, sort: "name", order: "asc" } },
        }),
      ),
    staleTime: 60_000,
    select: (page) => page.items,
  });
}

/**
 * An agent's name: from the org's list, else fetched alone (an org with more than a hundred
 * agents). Undefined while loading; "Deleted agent" when it no longer exists.
 */
export function useAgentName(agentId: string): string | undefined {
  const agents = useAgents();
  const listed = agents.data?.find((agent) => agent.id === agentId);
  const single = useQuery({
    queryKey: executionKeys.agent(agentId),
    queryFn: () => unwrap(api.GET("/api/v1/agents/{agent_id}", { params: { path: { agent_id: agentId } } })),
    enabled: !agents.isPending && !listed,
    staleTime: 5 * 60_000,
    meta: { silent: true },
  });
  return listed?.name ?? single.data?.name ?? (single.isError ? "Deleted agent" : undefined);
}

export function useExecution(id: string, seqRef: { current: number }, poll: number | false) {
  return useQuery({
    queryKey: executionKeys.detail(id),
    queryFn: async (): Promise<ExecutionRead> => {
      const seq = seqRef.current;
      const execution = await unwrap(
        api.GET("/api/v1/executions/{execution_id}", { params: { path: { execution_id: id } } }),
      );
      return { execution, seq };
    },
    enabled: Boolean(id),
    refetchInterval: (query) => (poll !== false && !isTerminal(query.state.data?.execution.status) ? poll : false),
    meta: { silent: true },
  });
}

export function useSteps(id: string, poll: number | false) {
  return useInfiniteQuery({
    queryKey: executionKeys.steps(id),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/executions/{execution_id}/steps", {
          params: { path: { execution_id: id }, query: { limit: CHILD_PAGE, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    enabled: Boolean(id),
    refetchInterval: poll,
  });
}

export function useLogs(id: string, poll: number | false) {
  return useInfiniteQuery({
    queryKey: executionKeys.logs(id),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/executions/{execution_id}/logs", {
          params: { path: { execution_id: id }, query: { limit: CHILD_PAGE, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    enabled: Boolean(id),
    refetchInterval: poll,
  });
}

export function usePendingApprovals() {
  return useInfiniteQuery({
    queryKey: executionKeys.pendingApprovals,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/executions/pending-approvals", {
          params: { query: { limit: LIST_PAGE, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: 15_000,
  });
}

/** Node type keys ("human.approval") to their display names ("Human approval"). */
export function useNodeTypeNames() {
  return useQuery({
    queryKey: executionKeys.nodeTypes,
    queryFn: () => unwrap(api.GET("/api/v1/node-types")),
    staleTime: Infinity,
    meta: { silent: true },
    select: (types) => {
      const names: Record<string, string> = {};
      for (const type of types) {
        if (typeof type.key === "string" && typeof type.display_name === "string") names[type.key] = type.display_name;
      }
      return names;
    },
  });
}

export interface DefinitionNode {
  id: string;
  type: string;
  label: string | null;
  config: Record<string, unknown>;
}

/** The nodes of the definition a run ran: its published version, or the draft for a test run. */
export function useDefinitionNodes(agentId: string | undefined, version: number | null | undefined) {
  return useQuery({
    queryKey: executionKeys.definition(agentId ?? "", version ?? null),
    queryFn: async () => {
      const definition = version
        ? (
            await unwrap(
              api.GET("/api/v1/agents/{agent_id}/versions/{version}", {
                params: { path: { agent_id: agentId as string, version } },
              }),
            )
          ).definition
        : (
            await unwrap(
              api.GET("/api/v1/agents/{agent_id}/draft", { params: { path: { agent_id: agentId as string } } }),
            )
          ).definition;
      return definitionNodes(definition);
    },
    enabled: Boolean(agentId),
    // A published version never changes; a draft may, but labels are only a nicety here.
    staleTime: version ? Infinity : 60_000,
    meta: { silent: true },
  });
}

export function definitionNodes(definition: unknown): Record<string, DefinitionNode> {
  const nodes: Record<string, DefinitionNode> = {};
  const list = (definition as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(list)) return nodes;
  for (const raw of list as Record<string, unknown>[]) {
    if (typeof raw?.id !== "string") continue;
    nodes[raw.id] = {
      id: raw.id,
      type: `${String(raw.type ?? "")}.${String(raw.subtype ?? "")}`,
      label: typeof raw.label === "string" && raw.label ? raw.label : null,
      config: (raw.config as Record<string, unknown>) ?? {},
    };
  }
  return nodes;
}

/** After a decision or a cancel: everything about executions may have moved. */
function refreshAfterAction(client: QueryClient, execution?: Execution) {
  if (execution) {
    // The answer is newer than anything the stream said so far: it wins until the next read.
    client.setQueryData<ExecutionRead>(executionKeys.detail(execution.id), { execution, seq: Number.MAX_SAFE_INTEGER });
  }
  void client.invalidateQueries({ queryKey: executionKeys.all });
}

export function useDecide(options: { silent?: boolean } = {}) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, decision, comment }: { id: string; decision: "approve" | "reject"; comment: string }) =>
      unwrap(
        api.POST("/api/v1/executions/{execution_id}/approve", {
          params: { path: { execution_id: id } },
          body: { decision, comment: comment.trim() || null },
        }),
      ),
    onSuccess: (execution) => refreshAfterAction(client, execution),
    meta: { silent: options.silent ?? true },
  });
}

export function useCancel() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST("/api/v1/executions/{execution_id}/cancel", { params: { path: { execution_id: id } } })),
    onSuccess: (execution) => refreshAfterAction(client, execution),
    onError: () => refreshAfterAction(client),
  });
}

export type { Execution, Step };
