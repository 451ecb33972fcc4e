/** LLM providers on the client: what each one's form asks for, and how its status reads. Pure. */
import type { components } from "@/lib/api/schema";

export type ProviderStatus = components["schemas"]["ProviderStatusOut"];

export interface ProviderForm {
  /** OpenAI-compatible servers have no default address. */
  baseUrl: "required" | "optional";
  apiVersion: boolean;
  organization: boolean;
  keyPlaceholder: string;
  baseUrlPlaceholder: string;
}

export function providerForm(provider: string): ProviderForm {
  switch (provider) {
    case "openai":
      return {
        baseUrl: "optional",
        apiVersion: false,
        organization: true,
        keyPlaceholder: "sk-…",
        baseUrlPlaceholder: "https://api.openai.com/v1",
      };
    case "anthropic":
      return {
        baseUrl: "optional",
        apiVersion: false,
        organization: false,
        keyPlaceholder: "sk-ant-…",
        baseUrlPlaceholder: "https://api.anthropic.com",
      };
    case "google":
      return {
        baseUrl: "optional",
        apiVersion: false,
        organization: false,
        keyPlaceholder: "AIza…",
        baseUrlPlaceholder: "https://generativelanguage.googleapis.com",
      };
    case "openai_compatible":
      return {
        baseUrl: "required",
        apiVersion: true,
        organization: false,
        keyPlaceholder: "Your server's API key",
        baseUrlPlaceholder: "http://ollama.internal:11434/v1",
      };
    default:
      return {
        baseUrl: "optional",
        apiVersion: false,
        organization: false,
        keyPlaceholder: "",
        baseUrlPlaceholder: "",
      };
  }
}

export type ProviderState = "verified" | "unverified" | "platform" | "none";

export function providerState(status: Pick<ProviderStatus, "source" | "verified">): ProviderState {
  if (status.source === "org") return status.verified ? "verified" : "unverified";
  return status.source === "platform" ? "platform" : "none";
}

export const PROVIDER_STATE_LABELS: Record<ProviderState, string> = {
  verified: "Verified",
  unverified: "Not verified",
  platform: "Platform key",
  none: "Not configured",
};

export interface ProviderKeyInput {
  apiKey: string;
  baseUrl: string;
  apiVersion: string;
  organization: string;
}

/** The PUT body, or the first problem with the input. Blank optional fields are left out. */
export function providerKeyBody(
  provider: string,
  input: ProviderKeyInput,
):
  | { body: { api_key: string; base_url?: string; api_version?: string; organization?: string } }
  | { error: { field: keyof ProviderKeyInput; message: string } } {
  const form = providerForm(provider);
  const apiKey = input.apiKey.trim();
  if (apiKey.length < 8) return { error: { field: "apiKey", message: "Paste the whole key (at least 8 characters)." } };
  const baseUrl = input.baseUrl.trim();
  if (form.baseUrl === "required" && !baseUrl) {
    return { error: { field: "baseUrl", message: "An OpenAI-compatible server needs its base URL." } };
  }
  if (baseUrl && !/^https?:\/\/[^\s/]+/i.test(baseUrl)) {
    return { error: { field: "baseUrl", message: "Use a full http:// or https:// address." } };
  }
  const body: { api_key: string; base_url?: string; api_version?: string; organization?: string } = { api_key: apiKey };
  if (baseUrl) body.base_url = baseUrl;
  if (form.apiVersion && input.apiVersion.trim()) body.api_version = input.apiVersion.trim();
  if (form.organization && input.organization.trim()) body.organization = input.organization.trim();
  return { body };
}
