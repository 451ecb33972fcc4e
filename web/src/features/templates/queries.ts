"use client";

/** Server state of the template gallery (TanStack Query): keys, reads and the install action. */
import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, type Schemas, unwrap } from "@/lib/api/client";

import { categoryCounts } from "./graph-summary";

export type TemplateSummary = Schemas["TemplateSummaryOut"];
export type Template = Schemas["TemplateOut"];

const PAGE_SIZE = 24;

export interface TemplateFilters {
  q?: string;
  category?: string;
}

export const templateKeys = {
  all: ["templates"] as const,
  list: (filters: TemplateFilters) => ["templates", "list", filters] as const,
  categories: ["templates", "categories"] as const,
  detail: (id: string) => ["templates", "detail", id] as const,
  nodeTypes: ["templates", "node-types"] as const,
};

export function useTemplateList(filters: TemplateFilters) {
  return useInfiniteQuery({
    queryKey: templateKeys.list(filters),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/templates", {
          params: {
            query: {
              q: filters.q || undefined,
              category: filters.category || undefined,
              limit: PAGE_SIZE,
              cursor: pageParam,
            },
          },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
    meta: { silent: true },
  });
}

/** The categories with how many templates each holds, from the first hundred (the gallery's scale). */
export function useTemplateCategories() {
  return useQuery({
    queryKey: templateKeys.categories,
    queryFn: () => unwrap(api.GET("/api/v1/templates", { params: { query: { limit: 100 } } })),
    select: (page) => categoryCounts(page.items),
    staleTime: 5 * 60_000,
    meta: { silent: true },
  });
}

export function useTemplate(id: string | null) {
  return useQuery({
    queryKey: templateKeys.detail(id ?? ""),
    queryFn: () => unwrap(api.GET("/api/v1/templates/{template_id}", { params: { path: { template_id: id! } } })),
    enabled: Boolean(id),
    staleTime: 5 * 60_000,
    meta: { silent: true },
  });
}

/** Display names and icons of node types by key (`ai.chat` → "AI chat", "sparkles"). */
export function useNodeTypeNames() {
  return useQuery({
    queryKey: templateKeys.nodeTypes,
    queryFn: () => unwrap(api.GET("/api/v1/node-types")),
    select: (types) => {
      const names: Record<string, string> = {};
      const icons: Record<string, string> = {};
      for (const type of types) {
        const key = String(type.key ?? "");
        if (typeof type.display_name === "string") names[key] = type.display_name;
        if (typeof type.icon === "string") icons[key] = type.icon;
      }
      return { names, icons };
    },
    staleTime: 30 * 60_000,
    meta: { silent: true },
  });
}

export function useInstallTemplate() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, name }: { id: string; name?: string }) =>
      unwrap(
        api.POST("/api/v1/templates/{template_id}/install", {
          params: { path: { template_id: id } },
          body: name ? { name } : undefined,
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["agents"] });
      void queryClient.invalidateQueries({ queryKey: ["executions", "agents"] });
      void queryClient.invalidateQueries({ queryKey: templateKeys.all });
    },
  });
}
