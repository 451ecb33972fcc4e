/**
 * The agent definition as the API stores it (agentflow/engine/spec.py) and the node-type catalog as
 * `GET /node-types` serves it (agentflow/engine/nodes/__init__.py `describe_catalog`).
 */
import type { Edge, Node } from "@xyflow/react";

import type { JsonSchema } from "./schema-form/schema";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = Record<string, unknown>;

export interface DefinitionNode {
  id: string;
  /** The family: trigger, ai, action, logic, human, knowledge, transform, flow. */
  type: string;
  subtype: string;
  label?: string | null;
  config: JsonObject;
  position: { x: number; y: number };
}

export interface DefinitionEdge {
  id: string;
  source: string;
  source_handle: string;
  target: string;
  label?: string | null;
}

export interface Definition {
  schema_version: 1;
  nodes: DefinitionNode[];
  edges: DefinitionEdge[];
}

/** A validation issue (agentflow/engine/validation.py): `path` is relative to the node or edge it names. */
export interface Issue {
  code: string;
  message: string;
  node_id?: string | null;
  edge_id?: string | null;
  path?: string | null;
}

export interface HandleInfo {
  id: string;
  label: string;
  multiple: boolean;
}

export interface NodeTypeInfo {
  /** `type.subtype`, e.g. ai.chat */
  key: string;
  type: string;
  subtype: string;
  display_name: string;
  description: string;
  category: string;
  /** A lucide icon name. */
  icon: string;
  inputs: HandleInfo[];
  /** Static outputs; dynamic ones (one per item of `config[from]`, id `item[key]`) come first. */
  outputs: HandleInfo[];
  dynamic_outputs: { from: string; key: string } | null;
  has_side_effects: boolean;
  config_schema: JsonSchema;
}

export type Catalog = ReadonlyMap<string, NodeTypeInfo>;

/** What a canvas node carries: everything of the definition node but its id and position. */
export interface AgentNodeData extends Record<string, unknown> {
  /** `type.subtype` */
  kind: string;
  label: string | null;
  config: JsonObject;
}

export type FlowNode = Node<AgentNodeData, "agent">;
export type FlowEdge = Edge<{ label?: string | null }>;

export const NODE_TYPE_NAME = "agent" as const;
export const INPUT_HANDLE = "in";
