/** The test-run form's parsing: trigger data and pinned outputs, checked before anything is sent. Pure. */
import type { PinnedOutput } from "./queries";
import type { Pin } from "./run-store";
import { defaultValue, type JsonSchema } from "./schema-form/schema";

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseTriggerData(text: string): Parsed<Record<string, unknown>> {
  if (text.trim() === "") return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `Not valid JSON: ${error instanceof Error ? error.message : "check the syntax"}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: 'Trigger data must be a JSON object, like {"question": "…"}.' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Pins → the API's `pinned_outputs`; an error names the first bad pin's node. */
export function parsePins(pins: readonly Pin[], nodeIds: ReadonlySet<string>): Parsed<Record<string, PinnedOutput>> {
  const out: Record<string, PinnedOutput> = {};
  for (const pin of pins) {
    if (!pin.nodeId) return { ok: false, error: "Choose the node of each pinned output." };
    if (!nodeIds.has(pin.nodeId)) return { ok: false, error: `There is no node ${pin.nodeId} any more.` };
    if (out[pin.nodeId]) return { ok: false, error: `${pin.nodeId} is pinned twice.` };
    let output: unknown;
    try {
      output = pin.outputText.trim() === "" ? null : JSON.parse(pin.outputText);
    } catch {
      return { ok: false, error: `The output pinned for ${pin.nodeId} is not valid JSON.` };
    }
    out[pin.nodeId] = pin.handle ? { output, handle: pin.handle } : { output };
  }
  return { ok: true, value: out };
}

/** Trigger data to start from: each input-schema property's default, or an empty value of its type. */
export function sampleInput(inputSchema: unknown): Record<string, unknown> {
  if (typeof inputSchema !== "object" || inputSchema === null) return {};
  const schema = inputSchema as JsonSchema;
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    const value = defaultValue(property, schema, true);
    out[key] = value === undefined ? null : value;
  }
  return out;
}
