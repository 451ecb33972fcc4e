/**
 * The node-type catalog: parse `GET /node-types`, a node's handles for its config, new nodes'
 * default configs, and what each node type's output offers to later templates.
 */
import { defaultValue, type JsonSchema } from "./schema-form/schema";
import type { Catalog, HandleInfo, JsonObject, NodeTypeInfo } from "./types";

function asHandles(value: unknown): HandleInfo[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((item): item is Record<string, unknown> => typeof item === "object" && item !== null)
    .map((item) => ({ id: String(item.id), label: String(item.label ?? item.id), multiple: item.multiple === true }));
}

/** The catalog as the API serves it (a list of loosely typed objects) → typed, keyed by `type.subtype`. */
export function parseCatalog(items: readonly Record<string, unknown>[]): Catalog {
  const catalog = new Map<string, NodeTypeInfo>();
  for (const item of items) {
    const type = String(item.type ?? "");
    const subtype = String(item.subtype ?? "");
    const key = String(item.key ?? `${type}.${subtype}`);
    const dynamic = item.dynamic_outputs as { from?: unknown; key?: unknown } | null | undefined;
    catalog.set(key, {
      key,
      type,
      subtype,
      display_name: String(item.display_name ?? key),
      description: String(item.description ?? ""),
      category: String(item.category ?? "Other"),
      icon: String(item.icon ?? ""),
      inputs: asHandles(item.inputs),
      outputs: asHandles(item.outputs),
      dynamic_outputs:
        dynamic && typeof dynamic.from === "string" && typeof dynamic.key === "string"
          ? { from: dynamic.from, key: dynamic.key }
          : null,
      has_side_effects: item.has_side_effects === true,
      config_schema: (item.config_schema ?? { type: "object" }) as JsonSchema,
    });
  }
  return catalog;
}

/** Catalog entries by category, in the catalog's (palette) order, filtered by a search text. */
export function groupByCategory(catalog: Catalog, search = ""): [string, NodeTypeInfo[]][] {
  const needle = search.trim().toLowerCase();
  const groups = new Map<string, NodeTypeInfo[]>();
  for (const info of catalog.values()) {
    if (
      needle &&
      ![info.display_name, info.description, info.key, info.category].some((text) =>
        text.toLowerCase().includes(needle),
      )
    )
      continue;
    const list = groups.get(info.category) ?? [];
    list.push(info);
    groups.set(info.category, list);
  }
  return [...groups.entries()];
}

/** The output handles of a node with this config: the dynamic ones (if any), then the static ones. */
export function outputHandles(info: NodeTypeInfo | undefined, config: JsonObject): HandleInfo[] {
  if (!info) return [];
  const dynamic: HandleInfo[] = [];
  if (info.dynamic_outputs) {
    const items = config[info.dynamic_outputs.from];
    const seen = new Set<string>();
    if (Array.isArray(items)) {
      for (const item of items) {
        const id = item && typeof item === "object" ? (item as JsonObject)[info.dynamic_outputs.key] : undefined;
        if (typeof id !== "string" || id === "" || seen.has(id)) continue;
        seen.add(id);
        dynamic.push({ id, label: id, multiple: false });
      }
    }
  }
  return [...dynamic, ...info.outputs];
}

export function isTrigger(info: NodeTypeInfo | undefined): boolean {
  return info?.type === "trigger";
}

/** A new node's config: every default, plus a starting value for each required field. */
export function defaultConfig(info: NodeTypeInfo): JsonObject {
  const value = defaultValue(info.config_schema, info.config_schema, true);
  return value && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : {};
}

/**
 * What `{{node_id.output.…}}` offers per node type (the handlers in agentflow/engine/nodes/*.py).
 * The catalog does not describe outputs, so this is the builder's own table; the variable picker
 * adds the fields a test run actually produced.
 */
const MODEL_FIELDS = ["model", "provider", "usage.input_tokens", "usage.output_tokens", "finish_reason"];
export const OUTPUT_FIELDS: Record<string, string[]> = {
  "trigger.manual": ["data"],
  "trigger.api": ["data"],
  "trigger.webhook": ["data"],
  "trigger.schedule": ["data", "data.scheduled_at"],
  "ai.chat": ["text", "data", ...MODEL_FIELDS],
  "ai.summarize": ["text", ...MODEL_FIELDS],
  "ai.classify": ["category", "text", ...MODEL_FIELDS],
  "ai.extract": ["data", ...MODEL_FIELDS],
  "action.tool": [],
  "logic.delay": ["waited_seconds", "parked"],
  "logic.if_else": ["result"],
  "logic.loop": ["items", "count", "truncated", "results"],
  "logic.merge": ["branches", "count"],
  "logic.switch": ["value", "case"],
  "flow.respond": [],
  "human.approval": ["decision", "comment", "by", "message"],
  "knowledge.retrieval": ["results", "context"],
  "transform.set_variables": [],
  "transform.template": ["text"],
};
