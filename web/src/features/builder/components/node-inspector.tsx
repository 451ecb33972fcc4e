"use client";

import { AlertCircle, ArrowRight, MousePointerClick, Plus, Trash2, X } from "lucide-react";
import * as React from "react";

import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { Input, NativeSelect } from "@/components/ui/input";
import { Label } from "@/components/ui/label";

import { outputHandles } from "../catalog";
import { connectionProblem } from "../connection";
import { splitKind } from "../graph";
import { NodeIcon } from "@/components/node-icon";
import type { CredentialChoice } from "../queries";
import { useRunStore } from "../run-store";
import { SchemaForm, type TemplateField } from "../schema-form/schema-form";
import { useBuilderStore, useIssueStore } from "../store";
import type { FlowEdge, HandleInfo, Issue } from "../types";
import { NodeRunOutput } from "./node-run";
import { VariablePicker } from "./variable-picker";

const EMPTY_ISSUES: Issue[] = [];
const ROLE_SUGGESTIONS = ["owner", "admin", "editor"];

function timezones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
}

/** The side panel for the selected node: label, settings form, connections, and its test-run output. */
export function NodeInspector({
  suggestions,
  credentials,
}: {
  /** Field suggestions by x-widget (models, tools). */
  suggestions: Record<string, readonly string[]>;
  /**
   * The org's connected accounts, for action nodes' credential field; undefined while unknown
   * (loading, or the role cannot list them): the field then shows the id as it is.
   */
  credentials: readonly CredentialChoice[] | undefined;
}) {
  const selectedId = useBuilderStore((state) => state.selectedNodeId);
  const selectedCount = useBuilderStore((state) => {
    let count = 0;
    for (const node of state.nodes) if (node.selected) count += 1;
    return count;
  });
  const deleteSelection = useBuilderStore((state) => state.deleteSelection);
  const readOnly = useBuilderStore((state) => state.readOnly);

  if (!selectedId) {
    if (selectedCount > 1) {
      return (
        <div className="grid grid-cols-1 gap-3 p-4">
          <p className="text-sm font-medium">{selectedCount} nodes selected</p>
          <p className="text-sm text-muted-foreground">Select a single node to edit its settings.</p>
          {!readOnly && (
            <Button variant="outline" className="justify-self-start text-destructive" onClick={deleteSelection}>
              <Trash2 aria-hidden />
              Delete selected
            </Button>
          )}
        </div>
      );
    }
    return (
      <div className="flex flex-col items-center gap-3 px-6 py-14 text-center">
        <div className="flex size-11 items-center justify-center rounded-full bg-muted">
          <MousePointerClick className="size-5 text-muted-foreground" aria-hidden />
        </div>
        <p className="font-medium">No node selected</p>
        <p className="max-w-64 text-sm text-muted-foreground">
          {readOnly
            ? "Select a node to see its settings."
            : "Select a node on the canvas to edit its settings and connections."}
        </p>
      </div>
    );
  }
  return <SelectedNode key={selectedId} nodeId={selectedId} suggestions={suggestions} credentials={credentials} />;
}

function SelectedNode({
  nodeId,
  suggestions,
  credentials,
}: {
  nodeId: string;
  suggestions: Record<string, readonly string[]>;
  credentials: readonly CredentialChoice[] | undefined;
}) {
  const data = useBuilderStore((state) => state.nodes.find((node) => node.id === nodeId)?.data);
  const info = useBuilderStore((state) => (data ? state.catalog.get(data.kind) : undefined));
  const issues = useIssueStore((state) => state.index.byNode[nodeId] ?? EMPTY_ISSUES);
  const readOnly = useBuilderStore((state) => state.readOnly);
  const updateConfig = useBuilderStore((state) => state.updateConfig);
  const updateLabel = useBuilderStore((state) => state.updateLabel);
  const deleteSelection = useBuilderStore((state) => state.deleteSelection);
  const hasRun = useRunStore((state) => state.executionId !== null);

  const fieldErrors = React.useMemo(() => {
    const errors: Record<string, string> = {};
    for (const issue of issues) {
      if (issue.node_id !== nodeId || !issue.path?.startsWith("config.")) continue;
      const path = issue.path.slice("config.".length);
      errors[path] = errors[path] ? `${errors[path]}; ${issue.message}` : issue.message;
    }
    return errors;
  }, [issues, nodeId]);

  const renderTemplateTools = React.useCallback(
    (field: TemplateField) => (readOnly ? null : <VariablePicker nodeId={nodeId} field={field} />),
    [nodeId, readOnly],
  );
  const allSuggestions = React.useMemo(
    () => ({ approvers: ROLE_SUGGESTIONS, timezone: timezones(), ...suggestions }),
    [suggestions],
  );
  // The accounts of the chosen tool's provider ("slack.post_message" → slack), or all before one is chosen.
  const tool = typeof data?.config.tool === "string" ? data.config.tool : "";
  const choices = React.useMemo(() => {
    if (!credentials) return undefined;
    const provider = tool.split(".")[0];
    return { credential: provider ? credentials.filter((choice) => choice.provider === provider) : credentials };
  }, [tool, credentials]);
  const onConfigChange = React.useCallback(
    (config: Record<string, unknown>) => updateConfig(nodeId, config),
    [nodeId, updateConfig],
  );

  if (!data) return null;
  const [family] = splitKind(data.kind);
  const labelId = `node-label-${nodeId}`;

  return (
    <div className="grid grid-cols-1 gap-5 p-4" data-testid="node-inspector">
      <div className="flex items-start gap-3">
        <NodeIcon icon={info?.icon} family={family} className="size-9" />
        <div className="min-w-0 flex-1">
          <h2 className="truncate font-semibold">{data.label || info?.display_name || data.kind}</h2>
          <p className="text-xs text-muted-foreground">{info?.description ?? `Unknown node type ${data.kind}`}</p>
        </div>
      </div>

      <div className="grid grid-cols-1 gap-1.5">
        <Label htmlFor={labelId}>Label</Label>
        <Input
          id={labelId}
          value={data.label ?? ""}
          placeholder={info?.display_name}
          maxLength={255}
          disabled={readOnly}
          onChange={(event) => updateLabel(nodeId, event.target.value)}
        />
        <div className="flex items-center justify-between gap-2 text-xs text-muted-foreground">
          <span className="min-w-0 truncate">
            Id <code className="rounded bg-muted px-1 py-0.5 font-mono text-foreground">{nodeId}</code> · use{" "}
            <code className="font-mono">{`{{${nodeId}.output}}`}</code>
          </span>
          <CopyButton value={`{{${nodeId}.output}}`} label="Copy" className="h-6 px-2 text-[11px]" />
        </div>
      </div>

      {issues.length > 0 && (
        <div
          className="grid grid-cols-1 gap-1.5 rounded-lg border border-destructive/40 bg-destructive/5 p-3"
          role="group"
          aria-label="Problems"
        >
          <p className="flex items-center gap-1.5 text-sm font-medium text-destructive">
            <AlertCircle className="size-4" aria-hidden />
            {issues.length} problem{issues.length === 1 ? "" : "s"}
          </p>
          <ul className="grid grid-cols-1 gap-1 text-xs">
            {issues.map((issue, index) => (
              <li key={index} className="text-destructive">
                {issue.path && issue.path !== "config" ? (
                  <code className="mr-1 font-mono text-[11px] opacity-80">{issue.path}</code>
                ) : null}
                {issue.message}
              </li>
            ))}
          </ul>
        </div>
      )}

      {info ? (
        <section aria-label="Settings" className="grid grid-cols-1 gap-3">
          <h3 className="text-xs font-semibold tracking-wide text-muted-foreground uppercase">Settings</h3>
          <SchemaForm
            schema={info.config_schema}
            value={data.config}
            onChange={onConfigChange}
            errors={fieldErrors}
            idPrefix={`cfg-${nodeId}`}
            readOnly={readOnly}
            renderTemplateTools={renderTemplateTools}
            suggestions={allSuggestions}
            choices={choices}
          />
        </section>
      ) : (
        <p className="text-sm text-destructive">This node type is not in the catalog; it cannot be edited here.</p>
      )}

      <Connections nodeId={nodeId} />

      {hasRun && (
        <section aria-label="Test run output" className="grid grid-cols-1 gap-3">
          <h3 className="text-xs font-semibold tracking-wide text-muted-foreground uppercase">Last test run</h3>
          <NodeRunOutput nodeId={nodeId} />
        </section>
      )}

      {!readOnly && (
        <Button
          variant="outline"
          className="justify-self-start text-destructive hover:text-destructive"
          onClick={deleteSelection}
        >
          <Trash2 aria-hidden />
          Delete node
        </Button>
      )}
    </div>
  );
}

/** Each output and where it leads; connect or disconnect from here, without dragging. */
function Connections({ nodeId }: { nodeId: string }) {
  const data = useBuilderStore((state) => state.nodes.find((node) => node.id === nodeId)?.data);
  const info = useBuilderStore((state) => (data ? state.catalog.get(data.kind) : undefined));
  const edges = useBuilderStore((state) => state.edges);
  const readOnly = useBuilderStore((state) => state.readOnly);
  const outputs = React.useMemo(() => (data ? outputHandles(info, data.config) : []), [data, info]);
  const incoming = edges.filter((edge) => edge.target === nodeId);
  if (!data) return null;
  return (
    <section aria-label="Connections" className="grid grid-cols-1 gap-3">
      <h3 className="text-xs font-semibold tracking-wide text-muted-foreground uppercase">Connections</h3>
      {info && info.inputs.length > 0 && (
        <p className="text-xs text-muted-foreground">
          {incoming.length === 0
            ? "Nothing leads into this node yet."
            : `From ${incoming.map((edge) => edge.source).join(", ")}`}
        </p>
      )}
      {outputs.length === 0 && <p className="text-xs text-muted-foreground">This node has no outputs.</p>}
      {outputs.map((handle) => (
        <OutputConnections
          key={handle.id}
          nodeId={nodeId}
          handle={handle}
          edges={edges.filter((edge) => edge.source === nodeId && (edge.sourceHandle ?? "out") === handle.id)}
          readOnly={readOnly}
        />
      ))}
    </section>
  );
}

function OutputConnections({
  nodeId,
  handle,
  edges,
  readOnly,
}: {
  nodeId: string;
  handle: HandleInfo;
  edges: FlowEdge[];
  readOnly: boolean;
}) {
  const removeEdge = useBuilderStore((state) => state.removeEdge);
  const connect = useBuilderStore((state) => state.connect);
  const [adding, setAdding] = React.useState(false);
  const selectId = `connect-${nodeId}-${handle.id}`;

  function candidates(): { id: string; label: string }[] {
    const state = useBuilderStore.getState();
    return state.nodes
      .filter(
        (node) =>
          connectionProblem(
            { source: nodeId, sourceHandle: handle.id, target: node.id },
            state.nodes,
            state.edges,
            state.catalog,
          ) === null,
      )
      .map((node) => ({
        id: node.id,
        label: node.data.label || state.catalog.get(node.data.kind)?.display_name || node.id,
      }));
  }

  return (
    <div className="grid grid-cols-1 gap-1.5 rounded-lg border p-2.5">
      <div className="flex items-center justify-between gap-2">
        <span className="text-sm font-medium">{handle.label}</span>
        {!readOnly && !adding && (
          <Button
            type="button"
            variant="ghost"
            size="sm"
            className="h-6 px-2 text-xs"
            onClick={() => setAdding(true)}
            aria-label={`Connect ${handle.label} to a node`}
          >
            <Plus aria-hidden />
            Connect
          </Button>
        )}
      </div>
      {edges.length === 0 && !adding && <p className="text-xs text-muted-foreground">Not connected</p>}
      {edges.map((edge) => (
        <div key={edge.id} className="flex items-center gap-1.5 text-xs">
          <ArrowRight className="size-3.5 text-muted-foreground" aria-hidden />
          <code className="min-w-0 flex-1 truncate font-mono">{edge.target}</code>
          {!readOnly && (
            <Button
              type="button"
              variant="ghost"
              size="icon-sm"
              className="size-6"
              aria-label={`Disconnect ${handle.label} from ${edge.target}`}
              onClick={() => removeEdge(edge.id)}
            >
              <X />
            </Button>
          )}
        </div>
      ))}
      {adding && (
        <div className="flex items-center gap-1.5">
          <Label htmlFor={selectId} className="sr-only">
            Connect {handle.label} to
          </Label>
          <NativeSelect
            id={selectId}
            className="h-8 text-xs"
            defaultValue=""
            autoFocus
            onChange={(event) => {
              if (event.target.value) connect({ source: nodeId, sourceHandle: handle.id, target: event.target.value });
              setAdding(false);
            }}
            onBlur={() => setAdding(false)}
          >
            <option value="">Choose a node…</option>
            {candidates().map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {candidate.label} ({candidate.id})
              </option>
            ))}
          </NativeSelect>
        </div>
      )}
    </div>
  );
}
