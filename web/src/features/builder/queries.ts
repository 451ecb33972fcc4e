"use client";

/** Server state of the builder (TanStack Query): the agent, its draft, the catalog, versions, diffs. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, type Schemas, unwrap } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";

import { parseCatalog } from "./catalog";
import type { Choice } from "./schema-form/schema-form";
import type { Definition, Issue } from "./types";

export type Agent = Schemas["AgentOut"];
export type Draft = Schemas["DraftOut"];
export type VersionSummary = Schemas["VersionSummaryOut"];
export type Version = Schemas["VersionOut"];

export interface DefinitionDiff {
  from: number | "draft";
  to: number | "draft";
  has_changes: boolean;
  nodes: DiffSection;
  edges: DiffSection;
}

export interface DiffSection {
  added: Record<string, Record<string, unknown>>;
  removed: Record<string, Record<string, unknown>>;
  changed: Record<string, Record<string, unknown>>;
}

export const builderKeys = {
  agent: (id: string) => ["agents", "detail", id] as const,
  draft: (id: string) => ["agents", "draft", id] as const,
  nodeTypes: ["builder", "node-types"] as const,
  versions: (id: string) => ["agents", "versions", id] as const,
  version: (id: string, version: number) => ["agents", "versions", id, version] as const,
  diff: (id: string, from: string, to: string) => ["agents", "diff", id, from, to] as const,
  models: ["builder", "models"] as const,
  tools: ["builder", "tools"] as const,
  // Under "integrations": connecting or removing one in settings refreshes these choices.
  credentials: ["integrations", "choices"] as const,
};

export function useAgent(id: string) {
  return useQuery({
    queryKey: builderKeys.agent(id),
    queryFn: () => unwrap(api.GET("/api/v1/agents/{agent_id}", { params: { path: { agent_id: id } } })),
    enabled: id !== "",
    meta: { silent: true },
  });
}

export function fetchDraft(id: string): Promise<Draft> {
  return unwrap(api.GET("/api/v1/agents/{agent_id}/draft", { params: { path: { agent_id: id } } }));
}

export function useDraft(id: string) {
  return useQuery({
    queryKey: builderKeys.draft(id),
    queryFn: () => fetchDraft(id),
    enabled: id !== "",
    // The builder owns the draft once loaded: a refetch must not overwrite what the user edits,
    // and a later visit must load it fresh, not from the cache.
    staleTime: Infinity,
    gcTime: 0,
    refetchOnWindowFocus: false,
    meta: { silent: true },
  });
}

/** The catalog rarely changes while a page is open: fetched once per session. */
export function useNodeTypes() {
  return useQuery({
    queryKey: builderKeys.nodeTypes,
    queryFn: async () => parseCatalog(await unwrap(api.GET("/api/v1/node-types"))),
    staleTime: Infinity,
    refetchOnWindowFocus: false,
    meta: { silent: true },
  });
}

/** Model ids for the model field's suggestions (all of them: availability is the org's concern). */
export function useModelIds(enabled: boolean) {
  return useQuery({
    queryKey: builderKeys.models,
    queryFn: async () => (await unwrap(api.GET("/api/v1/models"))).models.map((model) => model.id),
    enabled,
    staleTime: 10 * 60_000,
    meta: { silent: true },
  });
}

/** Tool names (`http.request`, …) for the tool field's suggestions. */
export function useToolNames(enabled: boolean) {
  return useQuery({
    queryKey: builderKeys.tools,
    queryFn: async () =>
      (await unwrap(api.GET("/api/v1/integrations/available"))).flatMap((integration) => integration.tools ?? []),
    enabled,
    staleTime: 10 * 60_000,
    meta: { silent: true },
  });
}

/** An org's connected account, offered for an action node's `credential_id`. */
export interface CredentialChoice extends Choice {
  provider: string;
}

export function useCredentialChoices(enabled: boolean) {
  return useQuery({
    queryKey: builderKeys.credentials,
    // Only a connected account can be acted as (a run refuses any other).
    queryFn: async (): Promise<CredentialChoice[]> =>
      (await unwrap(api.GET("/api/v1/integrations")))
        .filter((integration) => integration.status === "connected")
        .map((integration) => ({
          value: integration.id,
          provider: integration.provider,
          // The name people gave it, else the provider; the secret's last characters tell two apart.
          label: `${integration.name || integration.provider} · ${integration.hint}`,
        })),
    enabled,
    meta: { silent: true },
  });
}

export function useVersions(id: string, enabled = true) {
  return useQuery({
    queryKey: builderKeys.versions(id),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/agents/{agent_id}/versions", { params: { path: { agent_id: id }, query: { limit: 100 } } }),
      ),
    enabled: enabled && id !== "",
  });
}

export function useVersion(id: string, version: number | null) {
  return useQuery({
    queryKey: builderKeys.version(id, version ?? 0),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/agents/{agent_id}/versions/{version}", {
          params: { path: { agent_id: id, version: version as number } },
        }),
      ),
    enabled: version !== null,
    staleTime: Infinity, // versions are immutable
  });
}

/** `from`/`to`: a version number or "draft" (GET /agents/{id}/diff?from=&to=). */
export function useDiff(id: string, from: string | null, to: string | null) {
  return useQuery({
    queryKey: builderKeys.diff(id, from ?? "", to ?? ""),
    queryFn: async () =>
      (await unwrap(
        api.GET("/api/v1/agents/{agent_id}/diff", {
          params: { path: { agent_id: id }, query: { from: from as string, to: to as string } },
        }),
      )) as unknown as DefinitionDiff,
    enabled: from !== null && to !== null && from !== to,
    staleTime: 0,
  });
}

/** The issues a 422 INVALID_DEFINITION carries, or null for any other error. */
export function issuesOf(error: unknown): Issue[] | null {
  if (!(error instanceof ApiError) || error.status !== 422) return null;
  const issues = error.details.issues;
  return Array.isArray(issues) ? (issues as Issue[]) : null;
}

/** Validate a definition without saving it: [] when valid, else its issues. */
export async function validateDefinition(agentId: string, definition: Definition): Promise<Issue[]> {
  try {
    await unwrap(
      api.POST("/api/v1/agents/{agent_id}/validate", {
        params: { path: { agent_id: agentId } },
        body: { definition: definition as unknown as Record<string, unknown> },
      }),
    );
    return [];
  } catch (error) {
    const issues = issuesOf(error);
    if (issues) return issues;
    throw error;
  }
}

export function usePublish(agentId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { change_message: string | null; draft_revision: number }) =>
      unwrap(api.POST("/api/v1/agents/{agent_id}/publish", { params: { path: { agent_id: agentId } }, body })),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: builderKeys.versions(agentId) }),
        queryClient.invalidateQueries({ queryKey: builderKeys.agent(agentId) }),
        queryClient.invalidateQueries({ queryKey: ["agents", "list"] }),
        queryClient.invalidateQueries({ queryKey: ["agents", "diff", agentId] }),
      ]),
    meta: { silent: true },
  });
}

export function useRestoreVersion(agentId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (version: number) =>
      unwrap(
        api.POST("/api/v1/agents/{agent_id}/versions/{version}/restore", {
          params: { path: { agent_id: agentId, version } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["agents", "diff", agentId] }),
  });
}

export interface PinnedOutput {
  output: unknown;
  handle?: string | null;
}

export function useStartTestRun(agentId: string) {
  return useMutation({
    mutationFn: (body: { input: Record<string, unknown>; pinned_outputs: Record<string, PinnedOutput> }) =>
      unwrap(api.POST("/api/v1/agents/{agent_id}/test", { params: { path: { agent_id: agentId } }, body })),
    meta: { silent: true },
  });
}
