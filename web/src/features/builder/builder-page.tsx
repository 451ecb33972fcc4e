"use client";

import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { Bot } from "lucide-react";
import dynamic from "next/dynamic";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import * as React from "react";
import { toast } from "sonner";

import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Skeleton } from "@/components/ui/skeleton";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { errorMessage } from "@/lib/api/errors";
import { useCan } from "@/lib/auth/session";
import { useExecutionStream } from "@/lib/stream/use-execution-stream";
import { cn } from "@/lib/utils";

import { hasUnsavedChanges, leaveAutosave, saveNow, startAutosave } from "./autosave";
import { BuilderCanvas } from "./components/canvas";
import { ConflictBanner } from "./components/conflict-banner";
import { IssuesPanel } from "./components/issues-panel";
import { Palette } from "./components/palette";
import { BuilderToolbar } from "./components/toolbar";
import {
  type Agent,
  useAgent,
  useCredentialChoices,
  useDraft,
  useModelIds,
  useNodeTypes,
  useToolNames,
  validateDefinition,
} from "./queries";
import { freeSpot } from "./graph";
import { useRunStore } from "./run-store";
import { useShortcuts } from "./shortcuts";
import { resetBuilderStore, useBuilderStore, useIssueStore } from "./store";
import type { Catalog, Definition, Issue } from "./types";

type PanelTab = "node" | "problems" | "run" | "history";

// Panels that are not needed to show the graph load on demand (and are prefetched once it is on
// screen), which keeps the page's first load small.
const loadInspector = () => import("./components/node-inspector");
const loadTestRun = () => import("./components/test-run-panel");
const loadVersions = () => import("./components/versions-panel");
const loadPublish = () => import("./components/publish-dialog");
const loadShortcuts = () => import("./components/shortcuts-dialog");

function PanelLoading() {
  return (
    <div className="grid grid-cols-1 gap-3 p-4" role="status" aria-label="Loading">
      <Skeleton className="h-9 w-full" />
      <Skeleton className="h-20 w-full" />
      <Skeleton className="h-9 w-2/3" />
    </div>
  );
}

const NodeInspector = dynamic(() => loadInspector().then((module) => module.NodeInspector), {
  ssr: false,
  loading: PanelLoading,
});
const TestRunPanel = dynamic(() => loadTestRun().then((module) => module.TestRunPanel), {
  ssr: false,
  loading: PanelLoading,
});
const VersionsPanel = dynamic(() => loadVersions().then((module) => module.VersionsPanel), {
  ssr: false,
  loading: PanelLoading,
});
const PublishDialog = dynamic(() => loadPublish().then((module) => module.PublishDialog), { ssr: false });
const ShortcutsDialog = dynamic(() => loadShortcuts().then((module) => module.ShortcutsDialog), { ssr: false });

/** Fetch the on-demand panels while the user looks at the graph, so opening one is instant. */
function prefetchPanels(): void {
  const load = () => {
    for (const loader of [loadInspector, loadTestRun, loadVersions, loadPublish, loadShortcuts]) void loader();
  };
  if ("requestIdleCallback" in window) window.requestIdleCallback(load, { timeout: 2000 });
  else setTimeout(load, 500);
}

/** `/agents/builder/?id=<agent>`: the visual editor of one agent's draft. */
export function BuilderPage() {
  const agentId = useSearchParams().get("id") ?? "";
  const agent = useAgent(agentId);
  const draft = useDraft(agentId);
  const catalog = useNodeTypes();

  if (!agentId || (agent.isError && (agent.error as { status?: number }).status === 404)) {
    return (
      <div className="flex h-screen items-center justify-center p-8">
        <EmptyState
          icon={Bot}
          title="Agent not found"
          description="It may have been deleted, or the link is incomplete."
          action={
            <Button asChild variant="outline">
              <Link href="/agents/">Back to agents</Link>
            </Button>
          }
        />
      </div>
    );
  }
  const failed = agent.error ?? draft.error ?? catalog.error;
  if (failed) {
    return (
      <div className="flex h-screen items-center justify-center p-8">
        <EmptyState
          icon={Bot}
          title="The builder could not load this agent"
          description={errorMessage(failed)}
          action={
            <Button
              variant="outline"
              onClick={() => {
                void agent.refetch();
                void draft.refetch();
                void catalog.refetch();
              }}
            >
              Try again
            </Button>
          }
        />
      </div>
    );
  }
  if (!agent.data || !draft.data || !catalog.data) return <BuilderSkeleton />;
  return (
    <ReactFlowProvider>
      <LoadedBuilder
        key={agentId}
        agent={agent.data}
        definition={draft.data.definition as unknown as Definition}
        revision={draft.data.revision}
        issues={draft.data.issues as Issue[]}
        catalog={catalog.data}
      />
    </ReactFlowProvider>
  );
}

function BuilderSkeleton() {
  return (
    <div className="flex h-screen flex-col" role="status" aria-label="Loading the builder">
      <div className="flex h-14 items-center gap-3 border-b px-3">
        <Skeleton className="size-7" />
        <Skeleton className="h-5 w-48" />
        <Skeleton className="ml-auto h-8 w-24" />
        <Skeleton className="h-8 w-24" />
      </div>
      <div className="flex min-h-0 flex-1">
        <div className="grid w-64 content-start gap-2 border-r p-3">
          {Array.from({ length: 8 }, (_, index) => (
            <Skeleton key={index} className="h-10 w-full" />
          ))}
        </div>
        <div className="flex-1 bg-muted/30" />
        <div className="w-[400px] border-l p-4">
          <Skeleton className="h-9 w-full" />
        </div>
      </div>
    </div>
  );
}

/** Follows the watched test run's stream and hands each update to the run store. */
function RunWatcher() {
  const executionId = useRunStore((state) => state.executionId);
  const { view, state } = useExecutionStream(executionId);
  React.useEffect(() => {
    if (executionId) useRunStore.getState().update(view, state);
  }, [executionId, view, state]);
  return null;
}

let loadedAgentId: string | null = null;

function loadInto(
  agentId: string,
  definition: Definition,
  revision: number,
  issues: Issue[],
  catalog: Catalog,
  readOnly: boolean,
): void {
  const store = useBuilderStore.getState();
  store.setIssues(issues);
  store.load(definition, catalog, { readOnly });
  loadedAgentId = agentId;
}

function LoadedBuilder({
  agent,
  definition,
  revision,
  issues,
  catalog,
}: {
  agent: Agent;
  definition: Definition;
  revision: number;
  issues: Issue[];
  catalog: Catalog;
}) {
  const canWrite = useCan("agents.write");
  const canReadIntegrations = useCan("integrations.read");
  const canExecute = useCan("agents.execute");
  const archived = agent.status === "archived";
  const readOnly = !canWrite || archived;
  // Load the draft into the store before the first render; from then on the store owns it.
  const [loaded] = React.useState(() => {
    loadInto(agent.id, definition, revision, issues, catalog, readOnly);
    return true;
  });
  const [tab, setTab] = React.useState<PanelTab>("node");
  const [publishOpen, setPublishOpen] = React.useState(false);
  const [helpOpen, setHelpOpen] = React.useState(false);
  const [validating, setValidating] = React.useState(false);
  const canvasRef = React.useRef<HTMLDivElement>(null);
  const flow = useReactFlow();
  const issueCount = useIssueStore((state) => state.issues.length);
  const models = useModelIds(!readOnly);
  const tools = useToolNames(!readOnly);
  const credentials = useCredentialChoices(!readOnly && canReadIntegrations);

  React.useEffect(() => {
    // Mounted again (React's strict mode does that in development): load again.
    if (loadedAgentId !== agent.id) loadInto(agent.id, definition, revision, issues, catalog, readOnly);
    startAutosave(agent.id, revision);
    return () => {
      // Leaving the page inside the app: whatever is not saved yet is saved now.
      leaveAutosave();
      useRunStore.getState().clear();
      resetBuilderStore();
      loadedAgentId = null;
    };
    // Loaded once per agent (the component is keyed by agent id); later changes come from the user.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  React.useEffect(() => useBuilderStore.getState().setReadOnly(readOnly), [readOnly]);

  // Leaving the browser tab with unsaved changes: ask first.
  React.useEffect(() => {
    function onBeforeUnload(event: BeforeUnloadEvent) {
      if (!hasUnsavedChanges()) return;
      void saveNow();
      event.preventDefault();
    }
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, []);

  // Selecting a node shows its settings (unless a test run is being watched).
  React.useEffect(
    () =>
      useBuilderStore.subscribe((state, previous) => {
        if (state.selectedNodeId && state.selectedNodeId !== previous.selectedNodeId) {
          setTab((current) => (current === "run" ? current : "node"));
        }
      }),
    [],
  );

  const fitView = React.useCallback(() => void flow.fitView({ padding: 0.15, maxZoom: 1.2, duration: 250 }), [flow]);

  useShortcuts(
    {
      undo: () => useBuilderStore.getState().undo(),
      redo: () => useBuilderStore.getState().redo(),
      deleteSelection: () => useBuilderStore.getState().deleteSelection(),
      copy: () => {
        const count = useBuilderStore.getState().copySelection();
        if (count > 0) toast.success(`Copied ${count} node${count === 1 ? "" : "s"}`);
      },
      paste: () => void useBuilderStore.getState().paste(),
      selectAll: () => useBuilderStore.getState().selectAll(),
      fitView,
      help: () => setHelpOpen(true),
    },
    loaded,
  );

  /** Click-to-add: the node lands in the middle of what the canvas shows, or the nearest free spot. */
  const addAtCenter = React.useCallback(
    (kind: string) => {
      const box = canvasRef.current?.getBoundingClientRect();
      const center = box
        ? flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 })
        : { x: 0, y: 0 };
      const { nodes } = useBuilderStore.getState();
      const taken = nodes.map((node) => ({
        x: node.position.x,
        y: node.position.y,
        width: node.measured?.width ?? 240,
        height: node.measured?.height ?? 80,
      }));
      const spot = freeSpot({ x: Math.round(center.x - 120), y: Math.round(center.y - 40) }, taken);
      useBuilderStore.getState().addNode(kind, spot);
    },
    [flow],
  );

  async function validate() {
    setValidating(true);
    try {
      const found = await validateDefinition(agent.id, useBuilderStore.getState().definition());
      useBuilderStore.getState().setIssues(found);
      if (found.length === 0) toast.success("No problems found");
      else toast.error(`${found.length} problem${found.length === 1 ? "" : "s"} found`);
    } catch (error) {
      toast.error(errorMessage(error));
    } finally {
      setValidating(false);
    }
  }

  const suggestions = React.useMemo(
    () => ({ model: models.data ?? [], tool: tools.data ?? [] }),
    [models.data, tools.data],
  );

  const showRun = canExecute && !archived;
  return (
    <div className="flex h-screen flex-col" data-builder-ready={loaded || undefined}>
      <RunWatcher />
      <BuilderToolbar
        agent={agent}
        canWrite={canWrite}
        canExecute={canExecute}
        onTestRun={() => setTab("run")}
        onPublish={() => setPublishOpen(true)}
        onShortcuts={() => setHelpOpen(true)}
      />
      <ConflictBanner agentId={agent.id} />
      <div className="flex min-h-0 flex-1">
        {!readOnly && (
          <aside className="hidden w-64 shrink-0 border-r bg-card md:block">
            <Palette onAdd={addAtCenter} />
          </aside>
        )}
        <div ref={canvasRef} className="relative min-w-0 flex-1">
          {loaded && <BuilderCanvas onReady={prefetchPanels} />}
        </div>
        <aside className="flex w-[400px] shrink-0 flex-col border-l bg-card" aria-label="Side panel">
          <Tabs
            value={tab}
            onValueChange={(value) => setTab(value as PanelTab)}
            className="flex min-h-0 flex-1 flex-col"
          >
            <div className="border-b px-3 py-2">
              <TabsList className="grid w-full grid-cols-4">
                <TabsTrigger value="node">Node</TabsTrigger>
                <TabsTrigger value="problems" className="gap-1.5">
                  Problems
                  {issueCount > 0 && (
                    <span
                      className="rounded-full bg-destructive px-1.5 text-[11px] leading-4 font-semibold text-destructive-foreground"
                      aria-label={`${issueCount} problems`}
                    >
                      {issueCount}
                    </span>
                  )}
                </TabsTrigger>
                <TabsTrigger value="run" disabled={!showRun} className={cn(!showRun && "hidden")}>
                  Run
                </TabsTrigger>
                <TabsTrigger value="history">History</TabsTrigger>
              </TabsList>
            </div>
            <div className="min-h-0 flex-1 overflow-y-auto">
              <TabsContent value="node" className="mt-0">
                {loaded && <NodeInspector suggestions={suggestions} credentials={credentials.data} />}
              </TabsContent>
              <TabsContent value="problems" className="mt-0">
                <IssuesPanel onValidate={() => void validate()} validating={validating} />
              </TabsContent>
              {showRun && (
                <TabsContent value="run" className="mt-0">
                  <TestRunPanel agentId={agent.id} />
                </TabsContent>
              )}
              <TabsContent value="history" className="mt-0">
                <VersionsPanel agentId={agent.id} canWrite={canWrite && !archived} />
              </TabsContent>
            </div>
          </Tabs>
        </aside>
      </div>
      {canWrite && !archived && publishOpen && (
        <PublishDialog
          agentId={agent.id}
          latestVersion={agent.latest_version}
          open={publishOpen}
          onOpenChange={setPublishOpen}
        />
      )}
      {helpOpen && <ShortcutsDialog open={helpOpen} onOpenChange={setHelpOpen} />}
    </div>
  );
}
