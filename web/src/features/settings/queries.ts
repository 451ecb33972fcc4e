"use client";

/** Server state of the settings pages (TanStack Query): keys, reads and actions. */
import {
  type InfiniteData,
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";

import { api, type Schemas, unwrap } from "@/lib/api/client";
import { loadMe, useSession } from "@/lib/auth/session";

import type { CreatedApiKey } from "./api-keys";
import type { ConnectBody } from "./integrations";
import { type AuditFilters, auditFiltersToQuery } from "./audit-filters";
import type { Role } from "./roles";

export type Org = Schemas["OrgDetailOut"];
export type Member = Schemas["MemberOut"];
export type Invitation = Schemas["InvitationOut"];
export type Provider = Schemas["ProviderStatusOut"];
export type AuditEntry = Schemas["AuditLogOut"];
export type OutboxEmail = Schemas["OutboxEmailOut"];
type Page<T> = { items: T[]; next_cursor?: string | null };

const PAGE_SIZE = 50;

export const settingsKeys = {
  org: ["settings", "org"] as const,
  members: ["settings", "members"] as const,
  invitations: ["settings", "invitations"] as const,
  outbox: ["settings", "outbox"] as const,
  apiKeys: ["settings", "api-keys"] as const,
  providers: ["settings", "providers"] as const,
  /** Every integrations query (this list, the builder's credential choices) starts with this. */
  integrationsAll: ["integrations"] as const,
  integrations: ["integrations", "list"] as const,
  availableIntegrations: ["integrations", "available"] as const,
  audit: (filters: AuditFilters) => ["settings", "audit", filters] as const,
};

export function flattenPages<T>(data: InfiniteData<Page<T>> | undefined): T[] {
  return data?.pages.flatMap((page) => page.items) ?? [];
}

/* ---- Organization ---- */

export function useOrg() {
  return useQuery({
    queryKey: settingsKeys.org,
    queryFn: () => unwrap(api.GET("/api/v1/org")),
    meta: { silent: true },
  });
}

export function useUpdateOrg() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string }) => unwrap(api.PUT("/api/v1/org", { body })),
    onSuccess: (org) => {
      queryClient.setQueryData(settingsKeys.org, org);
      void loadMe(); // the org switcher shows the new name
    },
    meta: { silent: true },
  });
}

/* ---- Members and invitations ---- */

export function useMembers() {
  return useInfiniteQuery({
    queryKey: settingsKeys.members,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/api/v1/org/members", { params: { query: { limit: PAGE_SIZE, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    meta: { silent: true },
  });
}

/** Everyone's names for the audit log (the first page covers most orgs). */
export function useMemberDirectory(enabled = true) {
  return useQuery({
    queryKey: [...settingsKeys.members, "directory"],
    queryFn: () => unwrap(api.GET("/api/v1/org/members", { params: { query: { limit: 100 } } })),
    select: (page) => page.items,
    enabled,
    staleTime: 60_000,
    meta: { silent: true },
  });
}

export function useChangeRole() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ member, role }: { member: Member; role: Role }) =>
      unwrap(
        api.PUT("/api/v1/org/members/{member_id}/role", {
          params: { path: { member_id: member.id } },
          body: { role },
        }),
      ),
    onSuccess: async (_updated, { member }) => {
      await queryClient.invalidateQueries({ queryKey: settingsKeys.members });
      // Changing one's own role changes what this screen may show.
      if (member.user_id === useSession.getState().me?.user?.id) void loadMe();
    },
  });
}

export function useRemoveMember() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (member: Member) =>
      unwrap(api.DELETE("/api/v1/org/members/{member_id}", { params: { path: { member_id: member.id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.members }),
  });
}

export function useInvitations(enabled: boolean) {
  return useInfiniteQuery({
    queryKey: settingsKeys.invitations,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/api/v1/org/invitations", { params: { query: { limit: PAGE_SIZE, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    enabled,
    meta: { silent: true },
  });
}

/** The local outbox (embedded default, no SMTP): where invitation links can be read back. A 404
 *  means mail really goes out, and there is nothing to show. */
export function useOutbox(enabled: boolean) {
  return useQuery({
    queryKey: settingsKeys.outbox,
    queryFn: () => unwrap(api.GET("/api/v1/org/outbox", { params: { query: { limit: 100 } } })),
    select: (page) => page.items,
    enabled,
    retry: false,
    meta: { silent: true },
  });
}

export function useInvite() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; role: Role }) => unwrap(api.POST("/api/v1/org/members/invite", { body })),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: settingsKeys.invitations }),
        queryClient.invalidateQueries({ queryKey: settingsKeys.outbox }),
      ]),
    meta: { silent: true },
  });
}

export function useRevokeInvitation() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (invitation: Invitation) =>
      unwrap(
        api.DELETE("/api/v1/org/invitations/{invitation_id}", {
          params: { path: { invitation_id: invitation.id } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.invitations }),
  });
}

/* ---- API keys ---- */

export function useApiKeys(enabled = true) {
  return useInfiniteQuery({
    queryKey: settingsKeys.apiKeys,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/api/v1/org/api-keys", { params: { query: { limit: PAGE_SIZE, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    enabled,
    meta: { silent: true },
  });
}

export function useCreateApiKey() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; scopes: string[]; expires_at: string | null }) =>
      unwrap(api.POST("/api/v1/org/api-keys", { body })) as Promise<CreatedApiKey>,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.apiKeys }),
    meta: { silent: true },
  });
}

export function useRevokeApiKey() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (keyId: string) =>
      unwrap(api.DELETE("/api/v1/org/api-keys/{key_id}", { params: { path: { key_id: keyId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.apiKeys }),
  });
}

/* ---- LLM providers ---- */

export function useProviders() {
  return useQuery({
    queryKey: settingsKeys.providers,
    queryFn: () => unwrap(api.GET("/api/v1/org/providers")),
    meta: { silent: true },
  });
}

export interface ProviderKeyBody {
  api_key: string;
  base_url?: string | null;
  api_version?: string | null;
  organization?: string | null;
}

export function usePutProviderKey() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ provider, body }: { provider: string; body: ProviderKeyBody }) =>
      unwrap(api.PUT("/api/v1/org/providers/{provider}", { params: { path: { provider } }, body })),
    onSuccess: (status) =>
      queryClient.setQueryData<Provider[]>(settingsKeys.providers, (list) =>
        list?.map((item) => (item.provider === status.provider ? status : item)),
      ),
    meta: { silent: true },
  });
}

export function useDeleteProviderKey() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (provider: string) =>
      unwrap(api.DELETE("/api/v1/org/providers/{provider}", { params: { path: { provider } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.providers }),
  });
}

/* ---- Audit log ---- */

export function useAuditLog(filters: AuditFilters) {
  return useInfiniteQuery({
    queryKey: settingsKeys.audit(filters),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/org/audit-logs", {
          params: { query: { ...auditFiltersToQuery(filters), limit: PAGE_SIZE, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
    meta: { silent: true },
  });
}

/* ---- Integrations ---- */

export function useIntegrations() {
  return useQuery({
    queryKey: settingsKeys.integrations,
    queryFn: () => unwrap(api.GET("/api/v1/integrations")),
    meta: { silent: true },
  });
}

export function useAvailableIntegrations() {
  return useQuery({
    queryKey: settingsKeys.availableIntegrations,
    queryFn: () => unwrap(api.GET("/api/v1/integrations/available")),
    staleTime: 10 * 60_000,
    meta: { silent: true },
  });
}

export function useConnectIntegration() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ provider, body }: { provider: string; body: ConnectBody }) =>
      unwrap(
        api.POST("/api/v1/integrations/{integration}/connect", { params: { path: { integration: provider } }, body }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.integrationsAll }),
    meta: { silent: true },
  });
}

export function useDisconnectIntegration() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.DELETE("/api/v1/integrations/{integration_id}", { params: { path: { integration_id: id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.integrationsAll }),
  });
}
