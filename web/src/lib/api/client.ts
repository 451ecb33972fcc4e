/**
 * The typed API client. `schema.d.ts` is generated from the server's OpenAPI document
 * (`npm run api:generate`; CI fails when it drifts), so every path, parameter and body here is
 * checked by tsc against the real API.
 *
 * Auth (spec §2.5): the access token lives in memory only (`session.ts`); the refresh token stays
 * in its httpOnly cookie. A request that comes back 401 is retried once after a refresh.
 */
import createClient, { type Middleware } from "openapi-fetch";

import { accessToken, refreshSession } from "@/lib/auth/session";

import { toApiError } from "./errors";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
// Paths carry their /api/v1 prefix, exactly as the OpenAPI document (and the server) names them.

const retryable = new Map<string, Request>();

const auth: Middleware = {
  async onRequest({ request, id }) {
    const token = await accessToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    if (!request.url.includes("/auth/")) retryable.set(id, request.clone());
    return request;
  },
  async onResponse({ response, id }) {
    const original = retryable.get(id);
    retryable.delete(id);
    if (response.status !== 401 || !original) return response;
    const token = await refreshSession();
    if (!token) return response;
    original.headers.set("Authorization", `Bearer ${token}`);
    return fetch(original);
  },
  onError({ id }) {
    retryable.delete(id);
  },
};

export const api = createClient<paths>({ credentials: "same-origin" });
api.use(auth);

/** The data of a call, or an ApiError with the server's code and message. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw toApiError(0, undefined);
  }
  if (!result.response.ok) throw toApiError(result.response.status, result.error);
  return result.data as T;
}
