/**
 * What a node's templates can reference (the variable picker): the trigger's data, the outputs of
 * the nodes upstream of it (nearest first), variables set upstream, the loop it is in, and facts
 * about the execution. Pure.
 */
import { OUTPUT_FIELDS } from "./catalog";
import { enclosingLoops, upstreamNodes } from "./graph";
import type { Catalog, FlowEdge, FlowNode } from "./types";

export interface VariableOption {
  expression: string;
  /** Shown beside the expression: what it is. */
  hint?: string;
}

export interface VariableGroup {
  id: string;
  label: string;
  options: VariableOption[];
}

const SET_VARIABLES = "transform.set_variables";
const MAX_SAMPLE_FIELDS = 30;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `a.b` paths of an output a run produced (two levels), for fields the catalog does not know. */
export function sampleFields(output: unknown): string[] {
  if (!isPlainObject(output)) return [];
  const fields: string[] = [];
  for (const [key, value] of Object.entries(output)) {
    if (!IDENTIFIER.test(key)) continue;
    fields.push(key);
    if (isPlainObject(value)) {
      for (const inner of Object.keys(value)) if (IDENTIFIER.test(inner)) fields.push(`${key}.${inner}`);
    }
    if (fields.length >= MAX_SAMPLE_FIELDS) break;
  }
  return fields;
}

function inputSchemaFields(config: Record<string, unknown>): string[] {
  const schema = config.input_schema;
  if (!isPlainObject(schema) || !isPlainObject(schema.properties)) return [];
  return Object.keys(schema.properties).filter((key) => IDENTIFIER.test(key));
}

export function variablesFor(
  nodeId: string,
  nodes: readonly FlowNode[],
  edges: readonly FlowEdge[],
  catalog: Catalog,
  samples: Record<string, unknown> = {},
): VariableGroup[] {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const groups: VariableGroup[] = [];

  const trigger = nodes.find((node) => node.data.kind.startsWith("trigger."));
  const triggerOptions: VariableOption[] = [{ expression: "trigger.data", hint: "the run's input" }];
  if (trigger) {
    for (const field of inputSchemaFields(trigger.data.config))
      triggerOptions.push({ expression: `trigger.data.${field}` });
    if (trigger.data.kind === "trigger.schedule") triggerOptions.push({ expression: "trigger.data.scheduled_at" });
  }
  groups.push({ id: "trigger", label: "Trigger", options: triggerOptions });

  const variableNames = new Set<string>();
  for (const upstreamId of upstreamNodes(nodeId, nodes, edges)) {
    const node = byId.get(upstreamId);
    if (!node) continue;
    if (node.data.kind === SET_VARIABLES && isPlainObject(node.data.config.variables)) {
      for (const name of Object.keys(node.data.config.variables)) variableNames.add(name);
    }
    const fields = new Set(OUTPUT_FIELDS[node.data.kind] ?? []);
    for (const field of sampleFields(samples[upstreamId])) fields.add(field);
    const options: VariableOption[] = [{ expression: `${upstreamId}.output`, hint: "the whole output" }];
    for (const field of fields) options.push({ expression: `${upstreamId}.output.${field}` });
    const title = node.data.label || catalog.get(node.data.kind)?.display_name || node.data.kind;
    groups.push({ id: upstreamId, label: `${title} (${upstreamId})`, options });
  }

  if (variableNames.size > 0) {
    groups.push({
      id: "vars",
      label: "Variables",
      options: [...variableNames].map((name) => ({ expression: `vars.${name}` })),
    });
  }
  if (enclosingLoops(nodeId, nodes, edges).length > 0) {
    groups.push({
      id: "loop",
      label: "Loop",
      options: [
        { expression: "loop.item", hint: "the current item" },
        { expression: "loop.index", hint: "from 0" },
      ],
    });
  }
  groups.push({
    id: "execution",
    label: "Execution",
    options: ["id", "agent_id", "agent_version", "started_at"].map((field) => ({ expression: `execution.${field}` })),
  });
  return groups;
}

/** Insert `{{expression}}` into `text` in place of the selection [start, end); returns the text and the new cursor. */
export function insertReference(
  text: string,
  expression: string,
  start: number | null,
  end: number | null,
): { text: string; cursor: number } {
  const token = `{{${expression}}}`;
  const from = Math.max(0, Math.min(start ?? text.length, text.length));
  const to = Math.max(from, Math.min(end ?? from, text.length));
  return { text: text.slice(0, from) + token + text.slice(to), cursor: from + token.length };
}
