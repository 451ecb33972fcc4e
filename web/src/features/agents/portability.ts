/**
 * Agents as documents (docs/agent-format.md): reading what the user picked or pasted before it is
 * sent to POST /agents/import, and naming what GET /agents/{id}/export downloads. Pure.
 */
import { ApiError } from "@/lib/api/errors";

export type DocumentFormat = "yaml" | "json";

/** The API refuses bodies above 1 MiB (settings.max_body_bytes). */
export const MAX_DOCUMENT_BYTES = 1_048_576;
export const ACCEPTED_EXTENSIONS = [".yaml", ".yml", ".json"] as const;

const CONTENT_TYPES: Record<DocumentFormat, string> = {
  yaml: "application/yaml",
  json: "application/json",
};

/** By the file's extension when there is one, else by the text: JSON documents open with `{`. */
export function detectFormat(text: string, filename?: string | null): DocumentFormat {
  const name = filename?.toLowerCase() ?? "";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".yaml") || name.endsWith(".yml")) return "yaml";
  return text.trimStart().startsWith("{") ? "json" : "yaml";
}

export function contentTypeFor(format: DocumentFormat): string {
  return CONTENT_TYPES[format];
}

export function isAcceptedFile(filename: string): boolean {
  const name = filename.toLowerCase();
  return ACCEPTED_EXTENSIONS.some((extension) => name.endsWith(extension));
}

/** UTF-8 size of the text, as the request body will be. */
export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/**
 * What can be said before asking the server: nothing to send, too big, or JSON that does not
 * parse. YAML is left to the server (it owns the format's rules). Null when it looks sendable.
 */
export function precheckDocument(text: string, format: DocumentFormat): string | null {
  if (!text.trim()) return "Choose a file or paste a document first.";
  if (byteLength(text) > MAX_DOCUMENT_BYTES) return "The document is larger than 1 MB, the most the API accepts.";
  if (format === "json") {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      const detail = error instanceof SyntaxError ? error.message : "";
      return `This is not valid JSON${detail ? `: ${detail}` : "."}`;
    }
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      return "The document must be an object with a name and a definition.";
    }
  }
  return null;
}

export interface ImportProblem {
  /** Where in the document, e.g. `definition.nodes.0.type`; empty for the whole document. */
  path: string;
  message: string;
}

/** The API's answer to a refused import as a headline plus one line per problem. */
export function describeImportError(error: unknown): { message: string; problems: ImportProblem[] } {
  if (!(error instanceof ApiError)) {
    return { message: error instanceof Error ? error.message : "The import failed.", problems: [] };
  }
  const problems: ImportProblem[] = [];
  for (const [path, message] of Object.entries(error.fieldErrors())) problems.push({ path, message });
  const issues = error.details.issues;
  if (Array.isArray(issues)) {
    for (const issue of issues as { message?: unknown; node_id?: unknown; path?: unknown }[]) {
      if (typeof issue?.message !== "string") continue;
      const where = [issue.node_id, issue.path].filter((part) => typeof part === "string" && part).join(".");
      problems.push({ path: where, message: issue.message });
    }
  }
  return { message: error.message, problems };
}

/** The file name from a Content-Disposition header (plain or RFC 5987 `filename*`). */
export function filenameFromDisposition(header: string | null | undefined, fallback: string): string {
  if (!header) return fallback;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (extended?.[1]) {
    try {
      return sanitizeFilename(decodeURIComponent(extended[1].trim()), fallback);
    } catch {
      // malformed escape: fall through to the plain parameter
    }
  }
  const plain = /filename\s*=\s*(?:"([^"]*)"|([^;]+))/.exec(header);
  const name = plain?.[1] ?? plain?.[2]?.trim();
  return name ? sanitizeFilename(name, fallback) : fallback;
}

function sanitizeFilename(name: string, fallback: string): string {
  // A download name is a name, never a path.
  const base = name.split(/[\\/]/).pop()?.trim() ?? "";
  return base && base !== "." && base !== ".." ? base : fallback;
}

/** A fallback download name like the server's: `my-agent-1a2b3c4d.yaml`. */
export function exportFilename(name: string, agentId: string, format: DocumentFormat): string {
  const stem =
    name
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 60) || "agent";
  return `${stem}-${agentId.slice(0, 8)}.${format}`;
}
