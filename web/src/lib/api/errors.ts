/** The API's error envelope (spec §4.1): `{"error": {"code", "message", "details"}}`. */
export interface ErrorEnvelope {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** A failed API call, carrying the server's code and message so the UI can show them as-is. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** Field errors of a 422, keyed by the field's dotted path without the leading "body". */
  fieldErrors(): Record<string, string> {
    const fields = this.details.fields;
    if (!Array.isArray(fields)) return {};
    const out: Record<string, string> = {};
    for (const field of fields as { loc?: unknown[]; message?: string }[]) {
      const loc = (field.loc ?? []).map(String).filter((part) => part !== "body");
      out[loc.join(".")] = field.message ?? "Invalid value";
    }
    return out;
  }
}

function isEnvelope(value: unknown): value is ErrorEnvelope {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error = (value as { error: unknown }).error;
  return typeof error === "object" && error !== null && "message" in error;
}

/** Turn whatever a failed response carried into an ApiError (proxies may answer with HTML). */
export function toApiError(status: number, body: unknown): ApiError {
  if (isEnvelope(body)) {
    const { code, message, details } = body.error;
    return new ApiError(status, code ?? "ERROR", message, details ?? {});
  }
  if (status === 0) return new ApiError(0, "NETWORK_ERROR", "Cannot reach the AgentFlow API. Check your connection.");
  return new ApiError(status, "HTTP_" + status, `The server answered ${status}.`);
}

/** A message fit for a toast, whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
