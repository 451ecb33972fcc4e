/**
 * JSON Schema, as pydantic writes it for node configs, read for form rendering: `$ref` into `$defs`,
 * `anyOf [X, null]` for optional values, `oneOf` of objects for tagged variants, and the builder's
 * extensions `x-template` (offer variables) and `x-widget` (how to render). Pure functions.
 */

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  "x-template"?: boolean;
  "x-widget"?: string;
  [key: string]: unknown;
}

export type FieldKind =
  | "string"
  | "text"
  | "number"
  | "integer"
  | "boolean"
  | "enum"
  | "const"
  | "string-list"
  | "item-list"
  | "object"
  | "key-value"
  | "union"
  | "any"
  | "json";

/** A field, ready to render: its resolved schema, how to render it, and whether it may be null. */
export interface FieldSpec {
  kind: FieldKind;
  schema: JsonSchema;
  nullable: boolean;
  /** For `union`: the object variants to choose between. */
  variants?: JsonSchema[];
}

const MAX_REF_DEPTH = 32;

/** Follow `$ref` (local `#/$defs/…` only); keys beside the `$ref` (title, description) win. */
export function resolve(schema: JsonSchema | undefined, root: JsonSchema): JsonSchema {
  let current: JsonSchema = schema ?? {};
  for (let depth = 0; current.$ref && depth < MAX_REF_DEPTH; depth += 1) {
    const ref: string = current.$ref;
    const target = lookup(ref, root);
    const { $ref: _ignored, ...rest } = current;
    current = target ? { ...target, ...rest } : rest;
  }
  return current;
}

function lookup(ref: string, root: JsonSchema): JsonSchema | undefined {
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    const part = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node && typeof node === "object" ? (node as JsonSchema) : undefined;
}

function typesOf(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  return schema.type ? [schema.type] : [];
}

function isNullSchema(schema: JsonSchema): boolean {
  const types = typesOf(schema);
  return types.length === 1 && types[0] === "null";
}

/** Keys of the wrapper that describe the field (not its value's shape), kept when unwrapping. */
const DESCRIPTIVE_KEYS = ["title", "description", "default", "x-template", "x-widget"] as const;

function describedBy(outer: JsonSchema, inner: JsonSchema): JsonSchema {
  const merged: JsonSchema = { ...inner };
  for (const key of DESCRIPTIVE_KEYS) {
    if (outer[key] !== undefined) merged[key] = outer[key] as never;
  }
  return merged;
}

function isObjectSchema(schema: JsonSchema): boolean {
  return typesOf(schema).includes("object") || schema.properties !== undefined;
}

/** How to render a field of this schema. */
export function fieldSpec(schema: JsonSchema | undefined, root: JsonSchema): FieldSpec {
  let resolved = resolve(schema, root);
  let nullable = false;

  const union = resolved.anyOf ?? resolved.oneOf;
  if (union) {
    const branches = union.map((branch) => resolve(branch, root));
    const nonNull = branches.filter((branch) => !isNullSchema(branch));
    nullable = nonNull.length < branches.length;
    if (nonNull.length === 1 && nonNull[0]) {
      resolved = describedBy(resolved, nonNull[0]);
    } else if (nonNull.length > 1 && nonNull.every(isObjectSchema)) {
      return { kind: "union", schema: resolved, nullable, variants: nonNull };
    } else {
      return { kind: "json", schema: resolved, nullable };
    }
  }

  const types = typesOf(resolved).filter((type) => type !== "null");
  if (typesOf(resolved).includes("null")) nullable = true;
  const widget = resolved["x-widget"];

  if (resolved.const !== undefined) return { kind: "const", schema: resolved, nullable };
  if (widget === "json" || widget === "json-schema" || widget === "tool-params")
    return { kind: "json", schema: resolved, nullable };
  if (Array.isArray(resolved.enum) && resolved.enum.length > 0) return { kind: "enum", schema: resolved, nullable };
  if (types.length > 1) return { kind: "json", schema: resolved, nullable };

  switch (types[0]) {
    case "string":
      return { kind: widget === "textarea" || widget === "code" ? "text" : "string", schema: resolved, nullable };
    case "integer":
      return { kind: "integer", schema: resolved, nullable };
    case "number":
      return { kind: "number", schema: resolved, nullable };
    case "boolean":
      return { kind: "boolean", schema: resolved, nullable };
    case "array": {
      const items = resolve(resolved.items, root);
      const itemSpec = fieldSpec(items, root);
      if (itemSpec.kind === "string" && !itemSpec.nullable) return { kind: "string-list", schema: resolved, nullable };
      if (itemSpec.kind === "object" || itemSpec.kind === "union")
        return { kind: "item-list", schema: resolved, nullable };
      return { kind: "json", schema: resolved, nullable };
    }
    case "object": {
      if (resolved.properties && Object.keys(resolved.properties).length > 0)
        return { kind: "object", schema: resolved, nullable };
      if (widget === "key-value") return { kind: "key-value", schema: resolved, nullable };
      return { kind: "json", schema: resolved, nullable };
    }
    case undefined:
      if (resolved.properties) return { kind: "object", schema: resolved, nullable };
      return { kind: "any", schema: resolved, nullable };
    default:
      return { kind: "json", schema: resolved, nullable };
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A starting value: the schema's default, else (for a required field) the simplest valid-looking
 * value — an empty string, the first enum option, `minItems` starting items, an object with its
 * required and defaulted properties. Optional fields without a default have none (undefined).
 */
export function defaultValue(schema: JsonSchema | undefined, root: JsonSchema, required: boolean, depth = 0): unknown {
  if (depth > MAX_REF_DEPTH) return undefined;
  const resolved = resolve(schema, root);
  if (resolved.default !== undefined) return structuredClone(resolved.default);
  if (!required) return undefined;
  const spec = fieldSpec(resolved, root);
  const fieldSchema = spec.schema;
  switch (spec.kind) {
    case "const":
      return fieldSchema.const;
    case "enum":
      return fieldSchema.enum?.[0];
    case "string":
    case "text":
      return "";
    case "boolean":
      return false;
    case "number":
    case "integer":
      return fieldSchema.minimum ?? 0;
    case "string-list":
    case "item-list": {
      const count = Math.min(fieldSchema.minItems ?? 0, 5);
      return Array.from({ length: count }, () => defaultValue(fieldSchema.items, root, true, depth + 1));
    }
    case "union":
      return defaultValue(spec.variants?.[0], root, true, depth + 1);
    case "object": {
      const out: Record<string, unknown> = {};
      const requiredKeys = new Set(fieldSchema.required ?? []);
      for (const [key, property] of Object.entries(fieldSchema.properties ?? {})) {
        const value = defaultValue(property, root, requiredKeys.has(key), depth + 1);
        if (value !== undefined) out[key] = value;
      }
      return out;
    }
    case "key-value":
    case "json":
      return spec.nullable ? null : typesOf(fieldSchema).includes("array") ? [] : {};
    case "any":
      return null;
  }
}

/** Which of a union's object variants a value is: the first whose required keys it has and whose
 *  properties cover its keys; else the first with its required keys; else the first. */
export function matchVariant(variants: JsonSchema[], value: unknown, root: JsonSchema): number {
  if (!isPlainObject(value)) return 0;
  const keys = Object.keys(value);
  const resolved = variants.map((variant) => resolve(variant, root));
  const hasRequired = (variant: JsonSchema) => (variant.required ?? []).every((key) => key in value);
  const exact = resolved.findIndex(
    (variant) => hasRequired(variant) && keys.every((key) => key in (variant.properties ?? {})),
  );
  if (exact >= 0) return exact;
  const loose = resolved.findIndex(hasRequired);
  return loose >= 0 ? loose : 0;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The path of `key` inside `parent`, written as the server writes issue paths (engine/paths.py). */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (IDENTIFIER.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** "max_tokens" → "Max tokens", for properties without a title. */
export function humanize(key: string): string {
  const words = key.replaceAll(/[_-]+/g, " ").trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : key;
}

export function titleOf(schema: JsonSchema, fallbackKey: string): string {
  return schema.title ?? humanize(fallbackKey);
}

/**
 * Text typed into a field that takes any JSON value: numbers, true/false, null, lists and objects
 * are read as JSON; anything else is a string (a template, usually).
 */
export function parseLoose(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === "") return text;
  if (/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/.test(trimmed) || /^[[{]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

export function formatLoose(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}
