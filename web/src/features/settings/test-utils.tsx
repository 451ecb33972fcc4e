/** Shared bits of the settings/agents component tests: a query client, a signed-in session, API answers. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type * as React from "react";

import { type Me, useSession } from "@/lib/auth/session";

export const EDITOR_PERMISSIONS = [
  "org.read",
  "agents.read",
  "executions.read",
  "integrations.read",
  "knowledge.read",
  "analytics.read",
  "agents.write",
  "agents.execute",
  "knowledge.write",
];
export const ADMIN_PERMISSIONS = [
  ...EDITOR_PERMISSIONS,
  "org.manage",
  "members.manage",
  "api_keys.manage",
  "audit.read",
  "agents.delete",
  "integrations.manage",
];

export function signIn(role: string, permissions: string[], userId = "u-me"): void {
  useSession.setState({
    status: "signed-in",
    me: {
      user: { id: userId, email: "me@example.com", name: "Me" },
      org: { id: "o1", name: "Acme", slug: "acme" },
      role,
      orgs: [],
      permissions,
    } as unknown as Me,
  });
}

export function renderWithClient(ui: React.ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  // As a wrapper, so rerender() keeps the provider.
  return render(ui, {
    wrapper: ({ children }: { children: React.ReactNode }) => (
      <QueryClientProvider client={client}>{children}</QueryClientProvider>
    ),
  });
}

/** What openapi-fetch resolves to: the parsed body and the Response. */
export function answer<T>(data: T, status = 200) {
  return Promise.resolve({ data, response: new Response(null, { status }) });
}

export function failure(status: number, error: unknown) {
  return Promise.resolve({ error, response: new Response(null, { status }) });
}
