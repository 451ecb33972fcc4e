import { describe, expect, it } from "vitest";

import { shortcutFor } from "./shortcuts";
import { parsePins, parseTriggerData, sampleInput } from "./test-run";

const key = (key: string, extra: Partial<Parameters<typeof shortcutFor>[0]> = {}) =>
  shortcutFor({ key, code: "", metaKey: false, ctrlKey: false, shiftKey: false, altKey: false, ...extra });

describe("trigger data", () => {
  it("accepts a JSON object (or nothing)", () => {
    expect(parseTriggerData('{"q": "hi"}')).toEqual({ ok: true, value: { q: "hi" } });
    expect(parseTriggerData("  ")).toEqual({ ok: true, value: {} });
  });

  it("refuses invalid JSON and non-objects", () => {
    expect(parseTriggerData("{q: 1}")).toMatchObject({ ok: false, error: expect.stringMatching(/Not valid JSON/) });
    expect(parseTriggerData("[1, 2]")).toMatchObject({ ok: false, error: expect.stringMatching(/JSON object/) });
    expect(parseTriggerData('"text"')).toMatchObject({ ok: false });
  });

  it("starts from the trigger's input schema", () => {
    expect(
      sampleInput({
        type: "object",
        properties: {
          topic: { type: "string" },
          tone: { type: "string", enum: ["practical", "playful"], default: "practical" },
          count: { type: "integer" },
          urgent: { type: "boolean" },
        },
      }),
    ).toEqual({ topic: "", tone: "practical", count: 0, urgent: false });
    expect(sampleInput(null)).toEqual({});
  });
});

describe("pinned outputs", () => {
  const nodes = new Set(["draft", "send"]);
  const pin = (nodeId: string, outputText: string, handle = "") => ({ key: 1, nodeId, outputText, handle });

  it("builds the API's pinned_outputs", () => {
    expect(parsePins([pin("draft", '{"text": "hi"}'), pin("send", "", "error")], nodes)).toEqual({
      ok: true,
      value: { draft: { output: { text: "hi" } }, send: { output: null, handle: "error" } },
    });
  });

  it("names what is wrong", () => {
    expect(parsePins([pin("", "{}")], nodes)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Choose the node/),
    });
    expect(parsePins([pin("gone", "{}")], nodes)).toMatchObject({ ok: false, error: expect.stringMatching(/gone/) });
    expect(parsePins([pin("draft", "{")], nodes)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/draft is not valid JSON/),
    });
    expect(parsePins([pin("draft", "1"), pin("draft", "2")], nodes)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/twice/),
    });
  });
});

describe("keyboard shortcuts", () => {
  it("maps keys to actions", () => {
    expect(key("z", { ctrlKey: true })).toBe("undo");
    expect(key("z", { metaKey: true })).toBe("undo");
    expect(key("Z", { ctrlKey: true, shiftKey: true })).toBe("redo");
    expect(key("y", { ctrlKey: true })).toBe("redo");
    expect(key("c", { metaKey: true })).toBe("copy");
    expect(key("v", { ctrlKey: true })).toBe("paste");
    expect(key("a", { ctrlKey: true })).toBe("selectAll");
    expect(key("Delete")).toBe("deleteSelection");
    expect(key("Backspace")).toBe("deleteSelection");
    expect(key("f")).toBe("fitView");
    expect(key("!", { shiftKey: true, code: "Digit1" })).toBe("fitView");
    expect(key("?", { shiftKey: true })).toBe("help");
  });

  it("ignores everything else", () => {
    expect(key("z")).toBeNull();
    expect(key("F", { shiftKey: true })).toBeNull();
    expect(key("c", { ctrlKey: true, altKey: true })).toBeNull();
    expect(key("x", { ctrlKey: true })).toBeNull();
  });
});
