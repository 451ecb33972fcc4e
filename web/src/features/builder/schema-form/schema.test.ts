import { describe, expect, it } from "vitest";

import { defaultConfig, parseCatalog } from "../catalog";
import { NODE_TYPES_FIXTURE } from "../test-fixtures";
import { childPath, defaultValue, fieldSpec, type JsonSchema, matchVariant, parseLoose, resolve } from "./schema";

const catalog = parseCatalog(NODE_TYPES_FIXTURE);
const schemaOf = (key: string) => catalog.get(key)?.config_schema as JsonSchema;
const kindOf = (key: string, property: string) => {
  const root = schemaOf(key);
  return fieldSpec(root.properties?.[property], root);
};

describe("fieldSpec on the real catalog", () => {
  it("reads each config field's kind", () => {
    expect(kindOf("ai.chat", "prompt").kind).toBe("text");
    expect(kindOf("ai.chat", "model").kind).toBe("string");
    expect(kindOf("ai.chat", "temperature").kind).toBe("number");
    expect(kindOf("ai.chat", "max_tokens").kind).toBe("integer");
    expect(kindOf("ai.chat", "response_format").kind).toBe("enum");
    expect(kindOf("ai.classify", "categories").kind).toBe("item-list");
    expect(kindOf("human.approval", "approvers").kind).toBe("string-list");
    expect(kindOf("transform.set_variables", "variables").kind).toBe("key-value");
    expect(kindOf("trigger.manual", "input_schema")).toMatchObject({ kind: "json", nullable: true });
    expect(kindOf("logic.if_else", "conditions").kind).toBe("object");
  });

  it("unwraps anyOf [X, null] into a nullable X, keeping the outer title and description", () => {
    const spec = kindOf("logic.delay", "seconds");
    expect(spec).toMatchObject({ kind: "integer", nullable: true });
    expect(spec.schema.title).toBe("Seconds");
    expect(spec.schema.maximum).toBe(2592000);
    expect(kindOf("logic.delay", "until")).toMatchObject({ kind: "string", nullable: true });
  });

  it("reads a oneOf of objects as variants, and a field without type as any value", () => {
    const root = schemaOf("logic.if_else");
    const group = resolve({ $ref: "#/$defs/ConditionGroup" }, root);
    const items = fieldSpec(group.properties?.conditions?.items, root);
    expect(items.kind).toBe("union");
    expect(items.variants).toHaveLength(2);
    const condition = resolve({ $ref: "#/$defs/Condition" }, root);
    expect(fieldSpec(condition.properties?.right, root).kind).toBe("any");
  });
});

describe("defaultValue", () => {
  it("builds a new node's config from defaults and required fields", () => {
    expect(defaultConfig(catalog.get("ai.classify")!)).toEqual({
      model: "gpt-4o-mini",
      temperature: 0,
      max_tokens: 1024,
      input: "",
      categories: [
        { key: "", description: "" },
        { key: "", description: "" },
      ],
      instructions: "",
    });
    expect(defaultConfig(catalog.get("logic.if_else")!)).toEqual({
      conditions: { combinator: "and", conditions: [{ left: "", operator: "equals", right: null }] },
    });
    expect(defaultConfig(catalog.get("human.approval")!)).toEqual({
      message: "Please review and approve.",
      approvers: [""],
      timeout_hours: 72,
    });
  });

  it("has no value for an optional field without a default", () => {
    expect(defaultValue({ type: "string" }, {}, false)).toBeUndefined();
    expect(defaultValue({ type: "string", default: "x" }, {}, false)).toBe("x");
  });
});

describe("matchVariant", () => {
  it("picks the variant whose keys fit the value", () => {
    const root = schemaOf("logic.if_else");
    const variants = [{ $ref: "#/$defs/Condition" }, { $ref: "#/$defs/ConditionGroup" }];
    expect(matchVariant(variants, { left: "a", operator: "equals" }, root)).toBe(0);
    expect(matchVariant(variants, { combinator: "or", conditions: [] }, root)).toBe(1);
    expect(matchVariant(variants, "nonsense", root)).toBe(0);
  });
});

describe("paths and loose values", () => {
  it("writes paths like the server's issue paths", () => {
    expect(childPath("", "categories")).toBe("categories");
    expect(childPath(childPath("categories", 1), "key")).toBe("categories[1].key");
    expect(childPath("params", "x-api-key")).toBe('params["x-api-key"]');
  });

  it("reads JSON-looking text as JSON and anything else as text", () => {
    expect(parseLoose("42")).toBe(42);
    expect(parseLoose("true")).toBe(true);
    expect(parseLoose('{"a": 1}')).toEqual({ a: 1 });
    expect(parseLoose("[1, 2")).toBe("[1, 2");
    expect(parseLoose("{{trigger.data.x}}")).toBe("{{trigger.data.x}}");
    expect(parseLoose("high")).toBe("high");
  });
});
