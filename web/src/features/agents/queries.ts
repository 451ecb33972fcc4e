"use client";

/** Server state of the agents list (TanStack Query): keys, reads and actions. */
import {
  type InfiniteData,
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQueryClient,
} from "@tanstack/react-query";

import { api, type Schemas, unwrap } from "@/lib/api/client";
import { toApiError } from "@/lib/api/errors";

import { type AgentFilters, agentFiltersToQuery } from "./filters";
import { type DocumentFormat, contentTypeFor, exportFilename, filenameFromDisposition } from "./portability";

export type Agent = Schemas["AgentOut"];
type Page<T> = { items: T[]; next_cursor?: string | null };

const PAGE_SIZE = 25;

export const agentKeys = {
  all: ["agents"] as const,
  lists: ["agents", "list"] as const,
  list: (filters: AgentFilters) => ["agents", "list", filters] as const,
};

export function flattenPages<T>(data: InfiniteData<Page<T>> | undefined): T[] {
  return data?.pages.flatMap((page) => page.items) ?? [];
}

export function useAgentList(filters: AgentFilters) {
  return useInfiniteQuery({
    queryKey: agentKeys.list(filters),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/agents", {
          params: { query: { ...agentFiltersToQuery(filters), limit: PAGE_SIZE, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
    meta: { silent: true },
  });
}

/** After any change: every list of agents (ours, the executions filter, the builder's) refetches. */
function useInvalidateAgents() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: agentKeys.all }),
      queryClient.invalidateQueries({ queryKey: ["executions", "agents"] }),
    ]);
}

export function useCreateAgent() {
  const invalidate = useInvalidateAgents();
  return useMutation({
    mutationFn: (body: { name: string; description: string | null }) => unwrap(api.POST("/api/v1/agents", { body })),
    onSuccess: () => void invalidate(),
    meta: { silent: true },
  });
}

export function useSetAgentStatus() {
  const invalidate = useInvalidateAgents();
  return useMutation({
    mutationFn: ({ id, status }: { id: string; status: "active" | "paused" }) =>
      unwrap(api.PUT("/api/v1/agents/{agent_id}/status", { params: { path: { agent_id: id } }, body: { status } })),
    onSuccess: () => void invalidate(),
  });
}

/** DELETE archives: the agent and its history stay, hidden, and it cannot run. */
export function useArchiveAgent() {
  const invalidate = useInvalidateAgents();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/agents/{agent_id}", { params: { path: { agent_id: id } } })),
    onSuccess: () => void invalidate(),
  });
}

/** POST /agents/import takes the document itself as the body, typed by its Content-Type. */
export function useImportAgent() {
  const invalidate = useInvalidateAgents();
  return useMutation({
    mutationFn: ({ text, format }: { text: string; format: DocumentFormat }) =>
      unwrap<Agent>(
        api.POST("/api/v1/agents/import", {
          body: text as never,
          bodySerializer: (body: unknown) => body as string,
          headers: { "Content-Type": contentTypeFor(format) },
        }) as Promise<{ data?: Agent; error?: unknown; response: Response }>,
      ),
    onSuccess: () => void invalidate(),
    meta: { silent: true },
  });
}

/** Download the agent's draft as YAML or JSON, named as the server names it. */
export async function downloadExport(agent: Pick<Agent, "id" | "name">, format: DocumentFormat): Promise<void> {
  const { data, error, response } = await api.GET("/api/v1/agents/{agent_id}/export", {
    params: { path: { agent_id: agent.id }, query: { format } },
    parseAs: "blob",
  });
  if (!response.ok || !data) throw toApiError(response.status, error);
  const filename = filenameFromDisposition(
    response.headers.get("Content-Disposition"),
    exportFilename(agent.name, agent.id, format),
  );
  const url = URL.createObjectURL(data as Blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
