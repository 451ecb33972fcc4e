import { describe, expect, it } from "vitest";

import { providerForm, providerKeyBody, providerState } from "./providers";

const input = (over: Partial<{ apiKey: string; baseUrl: string; apiVersion: string; organization: string }> = {}) => ({
  apiKey: "sk-test-1234567890",
  baseUrl: "",
  apiVersion: "",
  organization: "",
  ...over,
});

describe("providerState", () => {
  it("reads whose key is used and whether it checked out", () => {
    expect(providerState({ source: "org", verified: true })).toBe("verified");
    expect(providerState({ source: "org", verified: false })).toBe("unverified");
    expect(providerState({ source: "platform", verified: true })).toBe("platform");
    expect(providerState({ source: "none", verified: false })).toBe("none");
  });
});

describe("providerKeyBody", () => {
  it("sends just the key when that is all there is", () => {
    expect(providerKeyBody("anthropic", input())).toEqual({ body: { api_key: "sk-test-1234567890" } });
  });

  it("requires a base URL for OpenAI-compatible servers, and a real one everywhere", () => {
    expect(providerKeyBody("openai_compatible", input())).toEqual({
      error: { field: "baseUrl", message: "An OpenAI-compatible server needs its base URL." },
    });
    expect(providerKeyBody("openai", input({ baseUrl: "ftp://x" }))).toMatchObject({ error: { field: "baseUrl" } });
  });

  it("refuses a key too short to be one (the API's minimum is 8)", () => {
    expect(providerKeyBody("openai", input({ apiKey: " short " }))).toMatchObject({ error: { field: "apiKey" } });
  });

  it("sends only the fields that provider takes, trimmed", () => {
    expect(
      providerKeyBody(
        "openai_compatible",
        input({ baseUrl: " http://llm.internal:11434/v1 ", apiVersion: "2024-10-21", organization: "org-x" }),
      ),
    ).toEqual({
      body: { api_key: "sk-test-1234567890", base_url: "http://llm.internal:11434/v1", api_version: "2024-10-21" },
    });
    expect(providerKeyBody("openai", input({ organization: " org-1 ", apiVersion: "v" }))).toEqual({
      body: { api_key: "sk-test-1234567890", organization: "org-1" },
    });
  });

  it("asks OpenAI-compatible servers for a version field and OpenAI for an org", () => {
    expect(providerForm("openai_compatible")).toMatchObject({
      baseUrl: "required",
      apiVersion: true,
      organization: false,
    });
    expect(providerForm("openai")).toMatchObject({ baseUrl: "optional", organization: true });
  });
});
