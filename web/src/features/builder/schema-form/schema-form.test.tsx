import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import * as React from "react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { parseCatalog } from "../catalog";
import { NODE_TYPES_FIXTURE } from "../test-fixtures";
import type { JsonSchema } from "./schema";
import { type Choice, SchemaForm, type TemplateField } from "./schema-form";

afterEach(cleanup);

const SAMPLE: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["prompt", "mode"],
  $defs: {
    Case: {
      type: "object",
      title: "Case",
      required: ["key"],
      properties: {
        key: { type: "string", title: "Key", description: "Names the handle" },
        weight: { type: "number", title: "Weight", default: 1 },
      },
    },
  },
  properties: {
    prompt: { type: "string", title: "Prompt", description: "What to ask", "x-template": true, "x-widget": "textarea" },
    model: { type: "string", title: "Model", default: "gpt-4o-mini" },
    temperature: { type: "number", title: "Temperature", minimum: 0, maximum: 2 },
    max_words: { anyOf: [{ type: "integer" }, { type: "null" }], title: "Max Words", default: null },
    stream: { type: "boolean", title: "Stream", default: true },
    mode: { type: "string", title: "Mode", enum: ["fast", "careful"] },
    tags: { type: "array", title: "Tags", items: { type: "string" } },
    cases: { type: "array", title: "Cases", items: { $ref: "#/$defs/Case" } },
    extra: { type: "object", title: "Extra", additionalProperties: true, description: "Anything else" },
  },
};

/** A controlled form with its latest value readable by the test. */
function Harness({
  initial,
  onValue,
  errors,
  renderTemplateTools,
  schema = SAMPLE,
  choices,
}: {
  initial: Record<string, unknown>;
  onValue: (value: Record<string, unknown>) => void;
  errors?: Record<string, string>;
  renderTemplateTools?: (field: TemplateField) => React.ReactNode;
  schema?: JsonSchema;
  choices?: Record<string, readonly Choice[]>;
}) {
  const [value, setValue] = React.useState(initial);
  return (
    <SchemaForm
      schema={schema}
      value={value}
      idPrefix="t"
      errors={errors}
      renderTemplateTools={renderTemplateTools}
      choices={choices}
      onChange={(next) => {
        setValue(next);
        onValue(next);
      }}
    />
  );
}

function setup(initial: Record<string, unknown> = {}, extra: Partial<React.ComponentProps<typeof Harness>> = {}) {
  const onValue = vi.fn();
  render(<Harness initial={initial} onValue={onValue} {...extra} />);
  const last = () => onValue.mock.calls.at(-1)?.[0] as Record<string, unknown>;
  return { onValue, last };
}

describe("SchemaForm", () => {
  it("labels fields by their schema titles, with hints, required marks and the right controls", () => {
    setup({ prompt: "Hi", mode: "fast" });
    const prompt = screen.getByLabelText("Prompt");
    expect(prompt.tagName).toBe("TEXTAREA");
    expect(prompt).toHaveProperty("value", "Hi");
    expect(prompt.getAttribute("aria-required")).toBe("true");
    expect(screen.getByText("What to ask").id).toBe(prompt.getAttribute("aria-describedby"));
    expect(screen.getByLabelText("Model").tagName).toBe("INPUT");
    expect(screen.getByLabelText("Temperature").getAttribute("type")).toBe("number");
    expect(screen.getByLabelText("Mode").tagName).toBe("SELECT");
    expect(screen.getByRole("switch", { name: "Stream" }).getAttribute("aria-checked")).toBe("true");
    expect(screen.getByLabelText("Extra").tagName).toBe("TEXTAREA"); // JSON editor fallback
    expect(screen.getByLabelText("Model").getAttribute("aria-required")).toBeNull();
  });

  it("emits typed values: strings, numbers, null for a cleared nullable, enums, booleans", () => {
    const { last } = setup({ prompt: "", mode: "fast", max_words: 100 });
    fireEvent.change(screen.getByLabelText("Prompt"), { target: { value: "Summarize {{trigger.data}}" } });
    expect(last().prompt).toBe("Summarize {{trigger.data}}");
    fireEvent.change(screen.getByLabelText("Temperature"), { target: { value: "0.5" } });
    expect(last().temperature).toBe(0.5);
    fireEvent.change(screen.getByLabelText("Temperature"), { target: { value: "" } });
    expect("temperature" in last()).toBe(false);
    fireEvent.change(screen.getByLabelText("Max Words"), { target: { value: "" } });
    expect(last().max_words).toBeNull();
    fireEvent.change(screen.getByLabelText("Max Words"), { target: { value: "12.7" } });
    expect(last().max_words).toBe(12);
    fireEvent.change(screen.getByLabelText("Mode"), { target: { value: "1" } });
    expect(last().mode).toBe("careful");
    fireEvent.click(screen.getByRole("switch", { name: "Stream" }));
    expect(last().stream).toBe(false);
  });

  it("edits lists of strings and lists of objects", () => {
    const { last } = setup({ prompt: "x", mode: "fast", tags: ["a"], cases: [{ key: "high" }] });
    fireEvent.click(screen.getByRole("button", { name: "Add tag" }));
    expect(last().tags).toEqual(["a", ""]);
    fireEvent.change(screen.getByLabelText("Tags 2"), { target: { value: "b" } });
    expect(last().tags).toEqual(["a", "b"]);
    fireEvent.click(screen.getByRole("button", { name: "Remove Tags 1" }));
    expect(last().tags).toEqual(["b"]);

    fireEvent.click(screen.getByRole("button", { name: "Add case" }));
    expect(last().cases).toEqual([{ key: "high" }, { key: "", weight: 1 }]);
    const keys = screen.getAllByLabelText("Key");
    expect(keys).toHaveLength(2);
    fireEvent.change(keys[1] as HTMLElement, { target: { value: "low" } });
    expect(last().cases).toEqual([{ key: "high" }, { key: "low", weight: 1 }]);
    fireEvent.click(screen.getByRole("button", { name: "Move Case 2 up" }));
    expect(last().cases).toEqual([{ key: "low", weight: 1 }, { key: "high" }]);
  });

  it("shows errors under their fields, by the server's issue paths", () => {
    setup(
      { prompt: "", mode: "fast", cases: [{ key: "" }] },
      { errors: { prompt: "String should have at least 1 character", "cases[0].key": "bad key" } },
    );
    const prompt = screen.getByLabelText("Prompt");
    expect(prompt.getAttribute("aria-invalid")).toBe("true");
    const message = screen.getByText("String should have at least 1 character");
    expect(message.getAttribute("role")).toBe("alert");
    expect(prompt.getAttribute("aria-describedby")).toBe(message.id);
    expect(screen.getByText("bad key")).toBeTruthy();
    expect(screen.getByLabelText("Key").getAttribute("aria-invalid")).toBe("true");
  });

  it("keeps invalid JSON local until it parses", () => {
    const { onValue, last } = setup({ prompt: "x", mode: "fast" });
    const editor = screen.getByLabelText("Extra");
    fireEvent.change(editor, { target: { value: '{"a": ' } });
    expect(onValue).not.toHaveBeenCalled();
    expect(screen.getByText(/Not valid JSON yet/)).toBeTruthy();
    fireEvent.change(editor, { target: { value: '{"a": 1}' } });
    expect(last().extra).toEqual({ a: 1 });
    expect(screen.queryByText(/Not valid JSON yet/)).toBeNull();
  });

  it("offers template tools beside template fields only, wired to the field", () => {
    const tools = vi.fn((field: TemplateField) => (
      <button type="button" onClick={() => field.onChange(`${field.value}{{trigger.data}}`)}>
        insert into {field.label}
      </button>
    ));
    const { last } = setup({ prompt: "Hi ", mode: "fast" }, { renderTemplateTools: tools });
    expect(screen.getAllByRole("button", { name: /^insert into/ })).toHaveLength(1);
    fireEvent.click(screen.getByRole("button", { name: "insert into Prompt" }));
    expect(last().prompt).toBe("Hi {{trigger.data}}");
    expect(tools.mock.calls[0]?.[0].id).toBe(screen.getByLabelText("Prompt").id);
  });

  it("renders the real if/else config: nested group, variant picker, any-value field", () => {
    const schema = parseCatalog(NODE_TYPES_FIXTURE).get("logic.if_else")?.config_schema as JsonSchema;
    const { last } = setup(
      { conditions: { combinator: "and", conditions: [{ left: "{{a.output.n}}", operator: "equals", right: null }] } },
      { schema },
    );
    expect(screen.getByLabelText("Combinator").tagName).toBe("SELECT");
    // the group is titled by its property ("Conditions"), not by the $ref'd class ("ConditionGroup")
    expect(screen.queryByText("ConditionGroup")).toBeNull();
    expect((screen.getByLabelText("Right") as HTMLInputElement).value).toBe("");
    fireEvent.change(screen.getByLabelText("Right"), { target: { value: "5" } });
    expect(last()).toEqual({
      conditions: { combinator: "and", conditions: [{ left: "{{a.output.n}}", operator: "equals", right: 5 }] },
    });
    fireEvent.change(screen.getByLabelText("Kind"), { target: { value: "1" } });
    const group = (last().conditions as { conditions: unknown[] }).conditions[0];
    expect(group).toEqual({ combinator: "and", conditions: [{ left: "", operator: "equals", right: null }] });
    expect(screen.getAllByLabelText("Combinator")).toHaveLength(2);
  });

  it("edits a key-value map (set variables), reading JSON-looking values as JSON", () => {
    const schema = parseCatalog(NODE_TYPES_FIXTURE).get("transform.set_variables")?.config_schema as JsonSchema;
    const { last } = setup({}, { schema });
    fireEvent.change(screen.getByLabelText("Variables"), { target: { value: "total" } });
    fireEvent.change(screen.getByLabelText("Variables value 1"), { target: { value: "42" } });
    expect(last()).toEqual({ variables: { total: 42 } });
    fireEvent.click(screen.getByRole("button", { name: "Add variable" }));
    fireEvent.change(screen.getByLabelText("Variables name 2"), { target: { value: "who" } });
    fireEvent.change(screen.getByLabelText("Variables value 2"), { target: { value: "{{trigger.data.name}}" } });
    expect(last()).toEqual({ variables: { total: 42, who: "{{trigger.data.name}}" } });
    fireEvent.click(screen.getByRole("button", { name: "Remove Variables 1" }));
    expect(last()).toEqual({ variables: { who: "{{trigger.data.name}}" } });
  });

  it("offers an id field's choices by label (a credential), keeping an unknown id visible", () => {
    // As the server describes an action node's `credential_id` (UUID | None, x-widget credential).
    const schema: JsonSchema = {
      type: "object",
      properties: {
        credential_id: {
          anyOf: [{ format: "uuid", type: "string" }, { type: "null" }],
          default: null,
          title: "Credential Id",
          "x-widget": "credential",
        },
      },
    };
    const choices = {
      credential: [
        { value: "5f0c2a84-0000-4000-8000-000000000001", label: "Acme Slack · …x9Qa" },
        { value: "5f0c2a84-0000-4000-8000-000000000002", label: "Support Slack · …Lm2c" },
      ],
    };
    const { last } = setup({ credential_id: "0badbeef-0000-4000-8000-000000000000" }, { schema, choices });
    const select = screen.getByLabelText("Credential Id") as HTMLSelectElement;
    expect(select.tagName).toBe("SELECT");
    expect(Array.from(select.options).map((option) => option.text)).toEqual([
      "—",
      "Not found (0badbeef…)",
      "Acme Slack · …x9Qa",
      "Support Slack · …Lm2c",
    ]);
    expect(select.value).toBe("0badbeef-0000-4000-8000-000000000000");
    fireEvent.change(select, { target: { value: "5f0c2a84-0000-4000-8000-000000000002" } });
    expect(last()).toEqual({ credential_id: "5f0c2a84-0000-4000-8000-000000000002" });
    fireEvent.change(select, { target: { value: "" } });
    expect(last()).toEqual({ credential_id: null });
  });

  it("keeps a text box for a widget without choices", () => {
    const schema: JsonSchema = {
      type: "object",
      properties: { credential_id: { type: "string", title: "Credential Id", "x-widget": "credential" } },
    };
    setup({}, { schema });
    expect(screen.getByLabelText("Credential Id").tagName).toBe("INPUT");
  });

  it("disables every control when read-only", () => {
    render(<SchemaForm schema={SAMPLE} value={{ prompt: "x" }} onChange={() => {}} idPrefix="r" readOnly />);
    const fieldset = screen.getByLabelText("Prompt").closest("fieldset");
    expect(fieldset?.disabled).toBe(true);
    expect(
      within(fieldset as HTMLElement)
        .getByLabelText("Model")
        .matches(":disabled"),
    ).toBe(true);
  });
});
