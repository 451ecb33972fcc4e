/**
 * What a template's graph amounts to, for a preview: its steps in the order they run, how many of
 * each kind, and the integrations it calls. Pure; tolerant of whatever shape the definition has.
 */

export interface GraphNode {
  id: string;
  type: string;
  subtype?: string | null;
  label?: string | null;
  config?: Record<string, unknown> | null;
  position?: { x?: number; y?: number } | null;
}

export interface GraphEdge {
  source: string;
  target: string;
}

export interface Step {
  id: string;
  /** The node type's catalog key, e.g. `ai.chat`, `trigger.webhook`. */
  key: string;
  type: string;
  label: string;
}

/** Node kinds in the order a preview lists them (the palette's order). */
export const KIND_ORDER = ["trigger", "ai", "knowledge", "human", "logic", "flow", "transform", "action"] as const;

export const KIND_LABELS: Record<string, string> = {
  trigger: "Trigger",
  ai: "AI",
  knowledge: "Knowledge",
  human: "Human",
  logic: "Logic",
  flow: "Flow",
  transform: "Transform",
  action: "Action",
};

/** "2 Actions", "1 Trigger", "3 AI". */
export function kindCountLabel(kind: string, count: number): string {
  const label = KIND_LABELS[kind] ?? humanize(kind);
  const countable = kind === "trigger" || kind === "action" || kind === "transform";
  return `${count} ${countable && count !== 1 ? `${label}s` : label}`;
}

const BRANDS: Record<string, string> = {
  github: "GitHub",
  gitlab: "GitLab",
  hubspot: "HubSpot",
  wordpress: "WordPress",
  openai: "OpenAI",
  sendgrid: "SendGrid",
  google_sheets: "Google Sheets",
  gmail: "Gmail",
  http: "HTTP",
  smtp: "Email",
  email: "Email",
};

function asObject(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** The nodes and edges of a definition, skipping anything malformed. */
export function readGraph(definition: unknown): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const root = asObject(definition);
  const rawNodes = Array.isArray(root?.nodes) ? root.nodes : [];
  const rawEdges = Array.isArray(root?.edges) ? root.edges : [];
  const nodes = rawNodes
    .map(asObject)
    .filter((node): node is Record<string, unknown> => node !== null)
    .filter((node) => typeof node.id === "string" && typeof node.type === "string") as unknown as GraphNode[];
  const edges = rawEdges
    .map(asObject)
    .filter((edge): edge is Record<string, unknown> => edge !== null)
    .filter((edge) => typeof edge.source === "string" && typeof edge.target === "string") as unknown as GraphEdge[];
  return { nodes, edges };
}

export function nodeKey(node: Pick<GraphNode, "type" | "subtype">): string {
  return node.subtype ? `${node.type}.${node.subtype}` : node.type;
}

function humanize(value: string): string {
  const words = value.replace(/[_.-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function byPosition(a: GraphNode, b: GraphNode): number {
  const ax = a.position?.x ?? 0;
  const bx = b.position?.x ?? 0;
  return ax !== bx ? ax - bx : (a.position?.y ?? 0) - (b.position?.y ?? 0);
}

/**
 * Steps in run order: a topological order (Kahn's algorithm) starting from the triggers, ties
 * broken left-to-right, top-to-bottom on the canvas; nodes on a cycle (loops) follow by position.
 */
export function orderSteps(definition: unknown, displayNames: Record<string, string> = {}): Step[] {
  const { nodes, edges } = readGraph(definition);
  const ids = new Set(nodes.map((node) => node.id));
  const indegree = new Map(nodes.map((node) => [node.id, 0]));
  const next = new Map<string, string[]>(nodes.map((node) => [node.id, []]));
  for (const edge of edges) {
    if (!ids.has(edge.source) || !ids.has(edge.target) || edge.source === edge.target) continue;
    next.get(edge.source)!.push(edge.target);
    indegree.set(edge.target, (indegree.get(edge.target) ?? 0) + 1);
  }
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const rank = (node: GraphNode) => (node.type === "trigger" ? 0 : 1);
  const compare = (a: GraphNode, b: GraphNode) => rank(a) - rank(b) || byPosition(a, b);
  const ready = nodes.filter((node) => indegree.get(node.id) === 0).sort(compare);
  const ordered: GraphNode[] = [];
  const placed = new Set<string>();
  while (ready.length > 0) {
    const node = ready.shift()!;
    ordered.push(node);
    placed.add(node.id);
    for (const target of next.get(node.id) ?? []) {
      const left = (indegree.get(target) ?? 0) - 1;
      indegree.set(target, left);
      if (left === 0) {
        ready.push(byId.get(target)!);
        ready.sort(compare);
      }
    }
  }
  ordered.push(...nodes.filter((node) => !placed.has(node.id)).sort(byPosition));
  return ordered.map((node) => {
    const key = nodeKey(node);
    return {
      id: node.id,
      key,
      type: node.type,
      label: node.label?.trim() || displayNames[key] || humanize(node.subtype || node.type),
    };
  });
}

/** How many nodes of each kind, in palette order: `[["trigger", 1], ["ai", 2], …]`. */
export function countKinds(definition: unknown): [string, number][] {
  const counts = new Map<string, number>();
  for (const node of readGraph(definition).nodes) counts.set(node.type, (counts.get(node.type) ?? 0) + 1);
  const known = KIND_ORDER.filter((kind) => counts.has(kind)).map(
    (kind) => [kind, counts.get(kind)!] as [string, number],
  );
  const other = [...counts]
    .filter(([kind]) => !(KIND_ORDER as readonly string[]).includes(kind))
    .sort(([a], [b]) => a.localeCompare(b));
  return [...known, ...other];
}

/** The integrations the tool steps call (`slack.post_message` → Slack), each once, sorted. */
export function integrationsUsed(definition: unknown): string[] {
  const names = new Set<string>();
  for (const node of readGraph(definition).nodes) {
    const tool = asObject(node.config)?.tool;
    if (node.type !== "action" || typeof tool !== "string" || !tool.includes(".")) continue;
    const integration = tool.slice(0, tool.indexOf("."));
    names.add(BRANDS[integration] ?? humanize(integration));
  }
  return [...names].sort((a, b) => a.localeCompare(b));
}

/** Categories with how many templates each holds, by name: `[["Marketing", 2], …]`. */
export function categoryCounts(templates: readonly { category?: string | null }[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const { category } of templates) {
    const name = category?.trim();
    if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => a.localeCompare(b));
}
