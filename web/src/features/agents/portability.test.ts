import { describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api/errors";

import {
  MAX_DOCUMENT_BYTES,
  contentTypeFor,
  describeImportError,
  detectFormat,
  exportFilename,
  filenameFromDisposition,
  isAcceptedFile,
  precheckDocument,
} from "./portability";

describe("detectFormat", () => {
  it("trusts the file extension first", () => {
    expect(detectFormat("{}", "agent.yaml")).toBe("yaml");
    expect(detectFormat("name: x", "AGENT.JSON")).toBe("json");
    expect(detectFormat("{}", "agent.yml")).toBe("yaml");
  });

  it("guesses from the text otherwise: JSON opens with a brace", () => {
    expect(detectFormat('  \n{"name": "x"}')).toBe("json");
    expect(detectFormat("name: x\ndefinition: {}")).toBe("yaml");
  });

  it("sends the matching content type", () => {
    expect(contentTypeFor("json")).toBe("application/json");
    expect(contentTypeFor("yaml")).toBe("application/yaml");
  });

  it("accepts only YAML and JSON files", () => {
    expect(isAcceptedFile("a.YML")).toBe(true);
    expect(isAcceptedFile("a.txt")).toBe(false);
  });
});

describe("precheckDocument", () => {
  it("asks for something to import", () => {
    expect(precheckDocument("  \n", "yaml")).toMatch(/choose a file or paste/i);
  });

  it("reports JSON that does not parse, with the parser's reason", () => {
    expect(precheckDocument('{"name": ', "json")).toMatch(/^This is not valid JSON: /);
  });

  it("wants a JSON object, not a list or a scalar", () => {
    expect(precheckDocument("[1, 2]", "json")).toMatch(/must be an object/);
    expect(precheckDocument("3", "json")).toMatch(/must be an object/);
  });

  it("refuses what the API's body limit would refuse", () => {
    expect(precheckDocument("x".repeat(MAX_DOCUMENT_BYTES + 1), "yaml")).toMatch(/larger than 1 MB/);
  });

  it("leaves YAML's rules to the server", () => {
    expect(precheckDocument("name: [unclosed", "yaml")).toBeNull();
    expect(precheckDocument('{"name": "x", "definition": {}}', "json")).toBeNull();
  });
});

describe("describeImportError", () => {
  it("lists the API's field errors by path", () => {
    const error = new ApiError(422, "INVALID_DOCUMENT", "The document is invalid", {
      fields: [
        { loc: ["name"], message: "String should have at least 1 character" },
        { loc: ["settings", "timeout_seconds"], message: "Input should be greater than or equal to 1" },
      ],
    });
    expect(describeImportError(error)).toEqual({
      message: "The document is invalid",
      problems: [
        { path: "name", message: "String should have at least 1 character" },
        { path: "settings.timeout_seconds", message: "Input should be greater than or equal to 1" },
      ],
    });
  });

  it("includes graph validation issues when there are any", () => {
    const error = new ApiError(422, "INVALID_DEFINITION", "The graph is invalid", {
      issues: [{ code: "x", message: "Unknown node type", node_id: "n1", path: "type" }, { nope: true }],
    });
    expect(describeImportError(error).problems).toEqual([{ path: "n1.type", message: "Unknown node type" }]);
  });

  it("keeps a plain message for anything else", () => {
    expect(describeImportError(new Error("offline"))).toEqual({ message: "offline", problems: [] });
    expect(describeImportError(new ApiError(400, "MALFORMED_DOCUMENT", "Not YAML")).problems).toEqual([]);
  });
});

describe("download names", () => {
  it("reads the server's Content-Disposition", () => {
    expect(filenameFromDisposition('attachment; filename="my-digest-ccbb2b78.yaml"', "x")).toBe(
      "my-digest-ccbb2b78.yaml",
    );
    expect(filenameFromDisposition("attachment; filename*=UTF-8''caf%C3%A9.json", "x")).toBe("café.json");
    expect(filenameFromDisposition("attachment; filename=plain.json", "x")).toBe("plain.json");
  });

  it("never lets a header pick a path, and falls back when it says nothing", () => {
    expect(filenameFromDisposition('attachment; filename="../../etc/passwd"', "x")).toBe("passwd");
    expect(filenameFromDisposition('attachment; filename=".."', "fallback.yaml")).toBe("fallback.yaml");
    expect(filenameFromDisposition(null, "fallback.yaml")).toBe("fallback.yaml");
  });

  it("builds a fallback like the server does", () => {
    expect(exportFilename("My Digest!", "ccbb2b78-9022-47cf", "yaml")).toBe("my-digest-ccbb2b78.yaml");
    expect(exportFilename("日本", "12345678-aaaa", "json")).toBe("agent-12345678.json");
  });
});
