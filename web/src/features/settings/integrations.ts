/** Connected integrations on the client: the connect form's fields and the body it sends. Pure. */
import type { components } from "@/lib/api/schema";

export type Integration = components["schemas"]["IntegrationOut"];
export type AvailableIntegration = components["schemas"]["AvailableIntegrationOut"];
export type ConnectBody = components["schemas"]["ConnectIn"];

export type AuthType = "bearer" | "basic" | "header" | "query";

export interface ConnectInput {
  name: string;
  authType: AuthType;
  /** The token, the password or the key's value: the secret, whichever the type calls it. */
  secret: string;
  /** The username (basic) or the header / query parameter's name. */
  label: string;
}

export const EMPTY_CONNECT_INPUT: ConnectInput = { name: "", authType: "bearer", secret: "", label: "" };

export interface AuthTypeForm {
  title: string;
  /** How the secret is sent, in the words the dialog shows. */
  summary: string;
  labelField: { title: string; placeholder: string } | null;
  secretTitle: string;
}

export const AUTH_TYPES: Record<AuthType, AuthTypeForm> = {
  bearer: {
    title: "Bearer token",
    summary: "Sent as Authorization: Bearer <token>.",
    labelField: null,
    secretTitle: "Token",
  },
  basic: {
    title: "Basic auth",
    summary: "Sent as Authorization: Basic with the username and password.",
    labelField: { title: "Username", placeholder: "api-user" },
    secretTitle: "Password",
  },
  header: {
    title: "API key in a header",
    summary: "Sent in the header you name, on every request.",
    labelField: { title: "Header name", placeholder: "X-API-Key" },
    secretTitle: "Key",
  },
  query: {
    title: "API key in the query",
    summary: "Added to every request's URL as the query parameter you name.",
    labelField: { title: "Parameter name", placeholder: "api_key" },
    secretTitle: "Key",
  },
};

export const AUTH_TYPE_LABELS: Record<string, string> = Object.fromEntries(
  Object.entries(AUTH_TYPES).map(([type, form]) => [type, form.title]),
);

// RFC 9110 token characters, as the server checks a header or query parameter name.
const PARAM_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

type Problem = { field: keyof ConnectInput; message: string };

/** The connect request for `input`, or the first problem the server would refuse it for. */
export function connectBody(input: ConnectInput): { body: ConnectBody } | { error: Problem } {
  const name = input.name.trim();
  if (!name) return { error: { field: "name", message: "Give the connection a name" } };
  if (name.length > 255) return { error: { field: "name", message: "At most 255 characters" } };
  const form = AUTH_TYPES[input.authType];
  const label = input.label.trim();
  if (form.labelField && !label)
    return { error: { field: "label", message: `Enter the ${form.labelField.title.toLowerCase()}` } };
  if ((input.authType === "header" || input.authType === "query") && !PARAM_NAME.test(label)) {
    return { error: { field: "label", message: "Letters, digits and - _ . only, no spaces" } };
  }
  if (input.authType === "basic" && label.length > 255) {
    return { error: { field: "label", message: "At most 255 characters" } };
  }
  // The secret is sent exactly as typed: spaces may belong to it.
  if (!input.secret) return { error: { field: "secret", message: `Enter the ${form.secretTitle.toLowerCase()}` } };
  if (input.secret.length > 4096) return { error: { field: "secret", message: "At most 4096 characters" } };
  switch (input.authType) {
    case "bearer":
      return { body: { name, credentials: { type: "bearer", token: input.secret } } };
    case "basic":
      return { body: { name, credentials: { type: "basic", username: label, password: input.secret } } };
    case "header":
    case "query":
      return { body: { name, credentials: { type: input.authType, name: label, value: input.secret } } };
  }
}

/** A server field error's path (`credentials.token`, …) as the form field it belongs to. */
export function formFieldOf(path: string): keyof ConnectInput | null {
  if (path === "name") return "name";
  const last = path.split(".").at(-1);
  if (last === "token" || last === "password" || last === "value") return "secret";
  if (last === "username" || (path.startsWith("credentials") && last === "name")) return "label";
  return null;
}
