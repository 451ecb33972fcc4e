import { describe, expect, it } from "vitest";

import { type ConnectInput, EMPTY_CONNECT_INPUT, connectBody, formFieldOf } from "./integrations";

const input = (over: Partial<ConnectInput> = {}): ConnectInput => ({
  ...EMPTY_CONNECT_INPUT,
  name: "  Billing API ",
  secret: "s3cret-token-value",
  ...over,
});

describe("connectBody", () => {
  it("builds each auth type's credentials, the secret exactly as typed", () => {
    expect(connectBody(input({ secret: " tok en " }))).toEqual({
      body: { name: "Billing API", credentials: { type: "bearer", token: " tok en " } },
    });
    expect(connectBody(input({ authType: "basic", label: " bot " }))).toEqual({
      body: { name: "Billing API", credentials: { type: "basic", username: "bot", password: "s3cret-token-value" } },
    });
    expect(connectBody(input({ authType: "header", label: "X-API-Key" }))).toEqual({
      body: { name: "Billing API", credentials: { type: "header", name: "X-API-Key", value: "s3cret-token-value" } },
    });
    expect(connectBody(input({ authType: "query", label: "api_key" }))).toEqual({
      body: { name: "Billing API", credentials: { type: "query", name: "api_key", value: "s3cret-token-value" } },
    });
  });

  it("names the field the server would refuse", () => {
    expect(connectBody(input({ name: "   " }))).toMatchObject({ error: { field: "name" } });
    expect(connectBody(input({ name: "x".repeat(256) }))).toMatchObject({ error: { field: "name" } });
    expect(connectBody(input({ secret: "" }))).toMatchObject({ error: { field: "secret" } });
    expect(connectBody(input({ secret: "x".repeat(4097) }))).toMatchObject({ error: { field: "secret" } });
    expect(connectBody(input({ authType: "basic", label: "" }))).toMatchObject({ error: { field: "label" } });
    expect(connectBody(input({ authType: "header", label: "X API Key" }))).toMatchObject({
      error: { field: "label", message: expect.stringContaining("no spaces") },
    });
    expect(connectBody(input({ authType: "query", label: "a:b" }))).toMatchObject({ error: { field: "label" } });
    // A bearer token needs no label: whatever is left in it from another type is not sent.
    expect(connectBody(input({ label: "left over" }))).toMatchObject({ body: { credentials: { type: "bearer" } } });
  });
});

describe("formFieldOf", () => {
  it("maps the server's field paths to the form's fields", () => {
    expect(formFieldOf("name")).toBe("name");
    expect(formFieldOf("credentials.bearer.token")).toBe("secret");
    expect(formFieldOf("credentials.basic.password")).toBe("secret");
    expect(formFieldOf("credentials.header.value")).toBe("secret");
    expect(formFieldOf("credentials.basic.username")).toBe("label");
    expect(formFieldOf("credentials.query.name")).toBe("label");
    expect(formFieldOf("credentials")).toBeNull();
  });
});
