"use client";

import { useReactFlow } from "@xyflow/react";
import { CircleStop, ExternalLink, Pin as PinIcon, Play, Plus, Sparkles, Trash2, Wand2 } from "lucide-react";
import Link from "next/link";
import * as React from "react";
import { toast } from "sonner";
import { useShallow } from "zustand/react/shallow";

import { Button } from "@/components/ui/button";
import { NativeSelect, Textarea } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { JsonView } from "@/components/ui/json-view";
import { StatusBadge, TERMINAL_STATUSES } from "@/components/ui/status-badge";
import { api, unwrap } from "@/lib/api/client";
import { errorMessage } from "@/lib/api/errors";
import { cn } from "@/lib/utils";

import { saveNow, useSaveStore } from "../autosave";
import { outputHandles } from "../catalog";
import { issuesOf, useStartTestRun } from "../queries";
import { type Pin, useRunStore } from "../run-store";
import { useBuilderStore } from "../store";
import { parsePins, parseTriggerData, sampleInput } from "../test-run";
import type { AgentNodeData } from "../types";
import { NodeRunOutput } from "./node-run";

const STREAM_LABEL: Record<string, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  closed: "Finished",
  error: "Stream lost",
  idle: "",
};

let pinKey = 0;

export function TestRunPanel({ agentId }: { agentId: string }) {
  // Node data by id, compared shallowly: dragging a node does not re-render this panel.
  const nodeData = useBuilderStore(
    useShallow((state): Record<string, AgentNodeData> =>
      Object.fromEntries(state.nodes.map((node) => [node.id, node.data])),
    ),
  );
  const catalog = useBuilderStore((state) => state.catalog);
  const setIssues = useBuilderStore((state) => state.setIssues);
  const triggerText = useRunStore((state) => state.triggerText);
  const setTriggerText = useRunStore((state) => state.setTriggerText);
  const pins = useRunStore((state) => state.pins);
  const setPins = useRunStore((state) => state.setPins);
  const executionId = useRunStore((state) => state.executionId);
  const start = useRunStore((state) => state.start);
  const startTest = useStartTestRun(agentId);
  const [formError, setFormError] = React.useState<string | null>(null);
  const [starting, setStarting] = React.useState(false);
  const [showInput, setShowInput] = React.useState(false);

  const trigger = Object.entries(nodeData).find(([, data]) => data.kind.startsWith("trigger."));
  const inputSchema = trigger?.[1].config.input_schema;
  const triggerParsed = parseTriggerData(triggerText);

  async function run() {
    setFormError(null);
    if (!triggerParsed.ok) {
      setFormError(triggerParsed.error);
      return;
    }
    const pinned = parsePins(pins, new Set(Object.keys(nodeData)));
    if (!pinned.ok) {
      setFormError(pinned.error);
      return;
    }
    setStarting(true);
    try {
      // A test run runs the saved draft: save what is on screen first.
      if (!(await saveNow())) {
        setFormError(
          useSaveStore.getState().error ?? "The draft could not be saved; the test run would not run what you see.",
        );
        return;
      }
      const started = await startTest.mutateAsync({ input: triggerParsed.value, pinned_outputs: pinned.value });
      start(started.execution_id);
      setShowInput(false);
    } catch (error) {
      const issues = issuesOf(error);
      if (issues && issues.length > 0) {
        setIssues(issues);
        setFormError(`Fix the ${issues.length} problem${issues.length === 1 ? "" : "s"} in the Problems tab first.`);
      } else setFormError(errorMessage(error));
    } finally {
      setStarting(false);
    }
  }

  const nodeOptions = Object.entries(nodeData)
    .filter(([, data]) => !data.kind.startsWith("trigger."))
    .map(([id, data]) => ({ id, label: data.label || catalog.get(data.kind)?.display_name || id }));

  const inputOpen = showInput || !executionId;
  return (
    <div className="grid grid-cols-1 gap-5 p-4">
      {executionId && (
        <div className="flex items-center justify-between gap-2 rounded-lg border bg-muted/30 px-3 py-2">
          <p className="min-w-0 truncate text-xs text-muted-foreground">
            Input: {triggerParsed.ok ? `${Object.keys(triggerParsed.value).length} fields` : "invalid JSON"} ·{" "}
            {pins.length} pinned
          </p>
          <Button
            type="button"
            variant="ghost"
            size="sm"
            className="h-6 px-2 text-xs"
            aria-expanded={inputOpen}
            aria-controls="test-input"
            onClick={() => setShowInput(!inputOpen)}
          >
            {inputOpen ? "Hide input" : "Edit input"}
          </Button>
        </div>
      )}
      <section aria-label="Test input" id="test-input" className="grid grid-cols-1 gap-4" hidden={!inputOpen}>
        <div className="grid grid-cols-1 gap-1.5">
          <div className="flex items-center justify-between gap-2">
            <Label htmlFor="test-trigger-data">Trigger data</Label>
            {inputSchema !== undefined && inputSchema !== null && (
              <Button
                type="button"
                variant="ghost"
                size="sm"
                className="h-6 px-2 text-xs"
                onClick={() => setTriggerText(JSON.stringify(sampleInput(inputSchema), null, 2))}
              >
                <Wand2 aria-hidden />
                Fill from input schema
              </Button>
            )}
          </div>
          <Textarea
            id="test-trigger-data"
            value={triggerText}
            onChange={(event) => setTriggerText(event.target.value)}
            rows={Math.min(12, Math.max(4, triggerText.split("\n").length + 1))}
            spellCheck={false}
            className="resize-y font-mono text-xs"
            aria-invalid={!triggerParsed.ok || undefined}
            aria-describedby="test-trigger-data-hint"
          />
          <p
            id="test-trigger-data-hint"
            className={cn("text-xs", triggerParsed.ok ? "text-muted-foreground" : "font-medium text-destructive")}
            role={triggerParsed.ok ? undefined : "alert"}
          >
            {triggerParsed.ok ? (
              <>
                A JSON object; templates read it as <code className="font-mono">{"{{trigger.data…}}"}</code>.
              </>
            ) : (
              triggerParsed.error
            )}
          </p>
        </div>

        <div className="grid grid-cols-1 gap-2">
          <div className="flex items-center justify-between gap-2">
            <p className="text-sm font-medium">Pinned outputs</p>
            <Button
              type="button"
              variant="ghost"
              size="sm"
              className="h-6 px-2 text-xs"
              onClick={() => setPins([...pins, { key: (pinKey += 1), nodeId: "", outputText: "{}", handle: "" }])}
              disabled={nodeOptions.length === 0}
            >
              <Plus aria-hidden />
              Pin an output
            </Button>
          </div>
          {pins.length === 0 ? (
            <p className="text-xs text-muted-foreground">
              A pinned node does not run: the test uses the output you give it. Pin AI and action nodes to test without
              calling a model or touching the outside world.
            </p>
          ) : (
            pins.map((pin, index) => (
              <PinEditor
                key={pin.key}
                pin={pin}
                index={index}
                nodeOptions={nodeOptions}
                handles={
                  pin.nodeId && nodeData[pin.nodeId]
                    ? outputHandles(catalog.get(nodeData[pin.nodeId]?.kind ?? ""), nodeData[pin.nodeId]?.config ?? {})
                    : []
                }
                onChange={(next) => setPins(pins.map((other) => (other.key === pin.key ? next : other)))}
                onRemove={() => setPins(pins.filter((other) => other.key !== pin.key))}
              />
            ))
          )}
        </div>
      </section>

      <div className="grid grid-cols-1 gap-3">
        {formError && (
          <p
            role="alert"
            className="rounded-md border border-destructive/30 bg-destructive/10 px-3 py-2 text-sm text-destructive"
          >
            {formError}
          </p>
        )}
        <Button
          onClick={() => void run()}
          loading={starting}
          disabled={!triggerParsed.ok}
          className="justify-self-start"
        >
          {!starting && <Play aria-hidden />}
          {executionId ? "Run test again" : "Run test"}
        </Button>
      </div>

      {executionId && (
        <LiveRun
          executionId={executionId}
          onPin={(nodeId) => {
            if (!pins.some((pin) => pin.nodeId === nodeId)) {
              setPins([...pins, { key: (pinKey += 1), nodeId, outputText: "{}", handle: "" }]);
            }
            setShowInput(true);
            requestAnimationFrame(() => document.getElementById("test-input")?.scrollIntoView({ block: "start" }));
          }}
        />
      )}
    </div>
  );
}

function PinEditor({
  pin,
  index,
  nodeOptions,
  handles,
  onChange,
  onRemove,
}: {
  pin: Pin;
  index: number;
  nodeOptions: { id: string; label: string }[];
  handles: { id: string; label: string }[];
  onChange: (pin: Pin) => void;
  onRemove: () => void;
}) {
  const prefix = `pin-${pin.key}`;
  let jsonError: string | null = null;
  if (pin.outputText.trim() !== "") {
    try {
      JSON.parse(pin.outputText);
    } catch {
      jsonError = "Not valid JSON yet.";
    }
  }
  return (
    <div
      className="grid grid-cols-1 gap-2 rounded-lg border bg-muted/20 p-3"
      role="group"
      aria-label={`Pinned output ${index + 1}`}
    >
      <div className="flex items-center justify-between">
        <span className="flex items-center gap-1.5 text-xs font-semibold text-muted-foreground">
          <PinIcon className="size-3.5" aria-hidden />
          Pin {index + 1}
        </span>
        <Button type="button" variant="ghost" size="icon-sm" aria-label={`Remove pin ${index + 1}`} onClick={onRemove}>
          <Trash2 />
        </Button>
      </div>
      <div className="grid grid-cols-[minmax(0,3fr)_minmax(0,2fr)] gap-2">
        <div className="grid grid-cols-1 gap-1">
          <Label htmlFor={`${prefix}-node`} className="text-xs">
            Node
          </Label>
          <NativeSelect
            id={`${prefix}-node`}
            className="h-8 text-xs"
            value={pin.nodeId}
            onChange={(event) => onChange({ ...pin, nodeId: event.target.value, handle: "" })}
          >
            <option value="">Choose…</option>
            {nodeOptions.map((option) => (
              <option key={option.id} value={option.id}>
                {option.label} ({option.id})
              </option>
            ))}
          </NativeSelect>
        </div>
        <div className="grid grid-cols-1 gap-1">
          <Label htmlFor={`${prefix}-handle`} className="text-xs">
            Handle
          </Label>
          <NativeSelect
            id={`${prefix}-handle`}
            className="h-8 text-xs"
            value={pin.handle}
            onChange={(event) => onChange({ ...pin, handle: event.target.value })}
          >
            <option value="">Default</option>
            {handles.map((handle) => (
              <option key={handle.id} value={handle.id}>
                {handle.label}
              </option>
            ))}
          </NativeSelect>
        </div>
      </div>
      <div className="grid grid-cols-1 gap-1">
        <Label htmlFor={`${prefix}-output`} className="text-xs">
          Output
        </Label>
        <Textarea
          id={`${prefix}-output`}
          value={pin.outputText}
          onChange={(event) => onChange({ ...pin, outputText: event.target.value })}
          rows={3}
          spellCheck={false}
          className="resize-y font-mono text-xs"
          aria-invalid={jsonError ? true : undefined}
          placeholder='{"text": "A sample answer"}'
        />
        {jsonError && (
          <p role="alert" className="text-xs font-medium text-destructive">
            {jsonError}
          </p>
        )}
      </div>
    </div>
  );
}

function LiveRun({ executionId, onPin }: { executionId: string; onPin: (nodeId: string) => void }) {
  const execution = useRunStore((state) => state.view.execution);
  const streamState = useRunStore((state) => state.streamState);
  const events = useRunStore((state) => state.view.events);
  const runNodes = useRunStore((state) => state.view.nodes);
  const selectedId = useBuilderStore((state) => state.selectedNodeId);
  const selectNode = useBuilderStore((state) => state.selectNode);
  const labels = useBuilderStore(
    useShallow((state) => Object.fromEntries(state.nodes.map((node) => [node.id, node.data.label || node.id]))),
  );
  const { fitView } = useReactFlow();
  const [cancelling, setCancelling] = React.useState(false);

  // Steps in the order they started (the stream's order), then any the snapshot had before.
  const order = React.useMemo(() => {
    const seen: string[] = [];
    for (const event of events) {
      const nodeId = event.data.node_id;
      if (typeof nodeId === "string" && !seen.includes(nodeId)) seen.push(nodeId);
    }
    for (const nodeId of Object.keys(runNodes)) if (!seen.includes(nodeId)) seen.push(nodeId);
    return seen;
  }, [events, runNodes]);

  const status = execution?.status ?? "pending";
  // When the run failed because a step did, the step's own error (shown above) says it already.
  const stepSaidIt = Object.values(runNodes).some(
    (run) =>
      run.status === "failed" &&
      execution?.error_message &&
      JSON.stringify(run.error ?? "").includes(execution.error_message.slice(0, 60)),
  );
  const finished = TERMINAL_STATUSES.has(status);
  const active =
    order.find((nodeId) => runNodes[nodeId]?.status === "waiting_approval") ??
    order.findLast((nodeId) => runNodes[nodeId]?.status === "running");
  const focused = selectedId && runNodes[selectedId] ? selectedId : (active ?? order[order.length - 1]);

  async function cancel() {
    setCancelling(true);
    try {
      await unwrap(
        api.POST("/api/v1/executions/{execution_id}/cancel", { params: { path: { execution_id: executionId } } }),
      );
    } catch (error) {
      toast.error(errorMessage(error));
    } finally {
      setCancelling(false);
    }
  }

  return (
    <section
      aria-label="Test run"
      className="grid grid-cols-1 gap-3 border-t pt-4"
      data-testid="test-run"
      data-status={status}
    >
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="flex items-center gap-2">
          <StatusBadge status={status} />
          {streamState !== "closed" && STREAM_LABEL[streamState] && (
            <span className="flex items-center gap-1.5 text-xs text-muted-foreground">
              {streamState === "live" && (
                <span className="size-1.5 animate-pulse rounded-full bg-success" aria-hidden />
              )}
              {STREAM_LABEL[streamState]}
            </span>
          )}
        </div>
        <div className="flex items-center gap-1">
          {!finished && (
            <Button variant="ghost" size="sm" onClick={() => void cancel()} loading={cancelling}>
              {!cancelling && <CircleStop aria-hidden />}
              Cancel run
            </Button>
          )}
          <Button asChild variant="ghost" size="sm">
            <Link href={`/executions/detail/?id=${encodeURIComponent(executionId)}`}>
              <ExternalLink aria-hidden />
              Open execution
            </Link>
          </Button>
        </div>
      </div>

      {order.length === 0 ? (
        <p className="text-sm text-muted-foreground">Waiting for the first step…</p>
      ) : (
        <ol className="grid grid-cols-1 gap-1" aria-label="Steps">
          {order.map((nodeId) => {
            const run = runNodes[nodeId];
            return (
              <li key={nodeId}>
                <button
                  type="button"
                  onClick={() => {
                    selectNode(nodeId);
                    void fitView({ nodes: [{ id: nodeId }], duration: 300, maxZoom: 1.2, padding: 0.6 });
                  }}
                  className={cn(
                    "flex w-full items-center justify-between gap-2 rounded-md px-2 py-1.5 text-left text-sm hover:bg-accent focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none",
                    focused === nodeId && "bg-accent",
                  )}
                  aria-current={focused === nodeId ? "true" : undefined}
                >
                  <span className="min-w-0 truncate">
                    {labels[nodeId] ?? nodeId}
                    {run?.tokens && run.status === "running" && (
                      <Sparkles className="ml-1.5 inline size-3 text-primary" aria-label="streaming" />
                    )}
                  </span>
                  {run && <StatusBadge status={run.status} />}
                </button>
              </li>
            );
          })}
        </ol>
      )}

      {focused && (
        <div className="grid grid-cols-1 gap-2 rounded-lg border p-3" aria-label="Step output" role="region">
          <p className="text-xs font-semibold text-muted-foreground">{labels[focused] ?? focused}</p>
          <NodeRunOutput nodeId={focused} />
          {runNodes[focused]?.status === "failed" && (
            <Button
              type="button"
              variant="outline"
              size="sm"
              className="justify-self-start"
              onClick={() => onPin(focused)}
            >
              <PinIcon aria-hidden />
              Pin an output for this step
            </Button>
          )}
        </div>
      )}

      {finished && execution && !(status === "failed" && stepSaidIt) && (
        <div className="grid grid-cols-1 gap-1.5">
          <p className="text-xs font-semibold text-muted-foreground">
            {status === "completed" ? "Run output" : status === "failed" ? "Why it failed" : "Cancelled"}
          </p>
          {status === "failed" && execution.error_message && (
            <p
              role="alert"
              className="rounded-md border border-destructive/30 bg-destructive/10 px-3 py-2 text-sm text-destructive"
            >
              {execution.error_message}
            </p>
          )}
          {status === "completed" && <JsonView value={execution.output ?? null} className="max-h-72 overflow-y-auto" />}
        </div>
      )}
    </section>
  );
}
