"use client";

import { useReactFlow } from "@xyflow/react";
import { AlertCircle, CheckCircle2, ShieldCheck } from "lucide-react";
import * as React from "react";
import { useShallow } from "zustand/react/shallow";

import { Button } from "@/components/ui/button";

import { useBuilderStore, useIssueStore } from "../store";
import type { Issue } from "../types";

/** Where an issue points: its node, or its edge's source node. */
function issueNodeId(issue: Issue, edgeSources: ReadonlyMap<string, string>): string | null {
  if (issue.node_id) return issue.node_id;
  if (issue.edge_id) return edgeSources.get(issue.edge_id) ?? null;
  return null;
}

export function IssuesPanel({ onValidate, validating }: { onValidate: () => void; validating: boolean }) {
  const issues = useIssueStore((state) => state.issues);
  const edges = useBuilderStore((state) => state.edges);
  // Labels by node id, compared shallowly: dragging a node does not re-render this panel.
  const labels = useBuilderStore(
    useShallow((state) => Object.fromEntries(state.nodes.map((node) => [node.id, node.data.label || node.id]))),
  );
  const selectNode = useBuilderStore((state) => state.selectNode);
  const { fitView } = useReactFlow();
  const edgeSources = React.useMemo(() => new Map(edges.map((edge) => [edge.id, edge.source])), [edges]);

  function focus(nodeId: string) {
    selectNode(nodeId);
    void fitView({ nodes: [{ id: nodeId }], duration: 300, maxZoom: 1.2, padding: 0.6 });
  }

  return (
    <div className="grid grid-cols-1 gap-3 p-4">
      <div className="flex items-center justify-between gap-2">
        <p className="text-sm text-muted-foreground">
          {issues.length === 0
            ? "No problems in the saved draft."
            : `${issues.length} problem${issues.length === 1 ? "" : "s"} to fix before publishing.`}
        </p>
        <Button variant="outline" size="sm" onClick={onValidate} loading={validating}>
          {!validating && <ShieldCheck aria-hidden />}
          Validate
        </Button>
      </div>
      {issues.length === 0 ? (
        <div className="flex flex-col items-center gap-2 rounded-lg border border-dashed py-10 text-center">
          <CheckCircle2 className="size-6 text-success" aria-hidden />
          <p className="text-sm font-medium">Ready to publish</p>
          <p className="max-w-60 text-xs text-muted-foreground">Problems show up here and on the nodes as you edit.</p>
        </div>
      ) : (
        <ul className="grid grid-cols-1 gap-1.5" aria-label="Problems">
          {issues.map((issue, index) => {
            const nodeId = issueNodeId(issue, edgeSources);
            const where = nodeId ? (labels[nodeId] ?? nodeId) : (issue.edge_id ?? "Agent");
            const content = (
              <>
                <AlertCircle className="mt-0.5 size-4 shrink-0 text-destructive" aria-hidden />
                <span className="min-w-0 flex-1">
                  <span className="block text-xs font-medium">
                    {where}
                    {issue.path && (
                      <code className="ml-1.5 font-mono text-[11px] text-muted-foreground">{issue.path}</code>
                    )}
                  </span>
                  <span className="block text-sm text-muted-foreground">{issue.message}</span>
                </span>
              </>
            );
            return (
              <li key={index}>
                {nodeId && labels[nodeId] !== undefined ? (
                  <button
                    type="button"
                    className="flex w-full items-start gap-2 rounded-md border p-2.5 text-left transition-colors hover:bg-accent focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none"
                    onClick={() => focus(nodeId)}
                    aria-label={`${where}: ${issue.message}`}
                  >
                    {content}
                  </button>
                ) : (
                  <div className="flex items-start gap-2 rounded-md border p-2.5">{content}</div>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
