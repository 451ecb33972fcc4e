/** The settings sections and who may see each (kit/permissions.py on the server). Pure. */

export type SectionId = "org" | "members" | "api-keys" | "integrations" | "providers" | "audit";

export interface Section {
  id: SectionId;
  href: string;
  label: string;
  description: string;
  /** The permission the section's main read needs; the section is hidden without it. */
  permission: string;
}

export const SECTIONS: readonly Section[] = [
  {
    id: "org",
    href: "/settings/",
    label: "Organization",
    description: "Your organization's name, URL slug and plan.",
    permission: "org.read",
  },
  {
    id: "members",
    href: "/settings/members/",
    label: "Members",
    description: "Who belongs to this organization, and what their role lets them do.",
    permission: "org.read",
  },
  {
    id: "api-keys",
    href: "/settings/api-keys/",
    label: "API keys",
    description: "Keys for scripts, CI and the SDKs to call the API as this organization.",
    permission: "api_keys.manage",
  },
  {
    id: "integrations",
    href: "/settings/integrations/",
    label: "Integrations",
    description: "Accounts that action steps act as, such as an HTTP API's token or key.",
    permission: "integrations.read",
  },
  {
    id: "providers",
    href: "/settings/providers/",
    label: "LLM providers",
    description: "Bring your own keys for OpenAI, Anthropic, Gemini or an OpenAI-compatible server.",
    permission: "integrations.manage",
  },
  {
    id: "audit",
    href: "/settings/audit/",
    label: "Audit log",
    description: "Who did what, and when: every change made in this organization.",
    permission: "audit.read",
  },
];

export function visibleSections(permissions: readonly string[] | null | undefined): Section[] {
  const granted = new Set(permissions ?? []);
  return SECTIONS.filter((section) => granted.has(section.permission));
}

function normalize(path: string): string {
  const clean = path.split(/[?#]/)[0] ?? "/";
  return clean.endsWith("/") ? clean : `${clean}/`;
}

/** The section a path shows (`/settings/members` and `/settings/members/` alike), if any. */
export function sectionForPath(pathname: string): Section | undefined {
  const path = normalize(pathname);
  return SECTIONS.find((section) => section.href === path);
}

export function sectionById(id: SectionId): Section {
  return SECTIONS.find((section) => section.id === id)!;
}
