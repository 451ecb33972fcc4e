"use client";

import { Archive, ArchiveRestore, Download, Ellipsis, History, Loader2, Pause, PencilRuler, Play } from "lucide-react";
import { useRouter } from "next/navigation";
import * as React from "react";
import { toast } from "sonner";

import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { errorMessage } from "@/lib/api/errors";
import { useCan } from "@/lib/auth/session";
import { auditHistoryHref } from "@/features/settings/audit-filters";

import { builderHref } from "../filters";
import type { DocumentFormat } from "../portability";
import { type Agent, downloadExport, useArchiveAgent, useSetAgentStatus } from "../queries";

/** The ⋯ menu of one agent: open, activate / pause / restore, its audit history, export, archive. */
export function AgentRowActions({ agent }: { agent: Agent }) {
  const router = useRouter();
  const canWrite = useCan("agents.write");
  const canDelete = useCan("agents.delete");
  const canAudit = useCan("audit.read");
  const setStatus = useSetAgentStatus();
  const archive = useArchiveAgent();
  const [confirmArchive, setConfirmArchive] = React.useState(false);

  const archived = agent.status === "archived";
  const published = agent.latest_version !== null;

  function changeStatus(status: "active" | "paused", done: string) {
    setStatus.mutate({ id: agent.id, status }, { onSuccess: () => toast.success(done) });
  }

  async function exportAs(format: DocumentFormat) {
    try {
      await downloadExport(agent, format);
    } catch (error) {
      toast.error(errorMessage(error));
    }
  }

  return (
    <>
      <DropdownMenu>
        <DropdownMenuTrigger asChild>
          <Button
            variant="ghost"
            size="icon-sm"
            aria-label="Agent actions"
            aria-describedby={`agent-name-${agent.id}`}
            aria-busy={setStatus.isPending || undefined}
          >
            {setStatus.isPending ? <Loader2 className="animate-spin" aria-hidden /> : <Ellipsis aria-hidden />}
          </Button>
        </DropdownMenuTrigger>
        <DropdownMenuContent align="end" className="w-52">
          <DropdownMenuItem onSelect={() => router.push(builderHref(agent.id))}>
            <PencilRuler aria-hidden />
            {canWrite && !archived ? "Open in builder" : "View in builder"}
          </DropdownMenuItem>
          {canWrite && (
            <>
              <DropdownMenuSeparator />
              {archived ? (
                <DropdownMenuItem onSelect={() => changeStatus("paused", `${agent.name} restored (paused)`)}>
                  <ArchiveRestore aria-hidden />
                  Restore
                </DropdownMenuItem>
              ) : agent.status === "active" ? (
                <DropdownMenuItem onSelect={() => changeStatus("paused", `${agent.name} paused`)}>
                  <Pause aria-hidden />
                  Pause
                </DropdownMenuItem>
              ) : (
                <DropdownMenuItem
                  disabled={!published}
                  onSelect={() => changeStatus("active", `${agent.name} is active`)}
                >
                  <Play aria-hidden />
                  <span className="grid">
                    Activate
                    {!published && <span className="text-xs text-muted-foreground">Publish a version first</span>}
                  </span>
                </DropdownMenuItem>
              )}
            </>
          )}
          {canAudit && (
            <DropdownMenuItem onSelect={() => router.push(auditHistoryHref("agent", agent.id))}>
              <History aria-hidden />
              Audit history
            </DropdownMenuItem>
          )}
          <DropdownMenuSeparator />
          <DropdownMenuLabel>Export draft</DropdownMenuLabel>
          <DropdownMenuItem onSelect={() => void exportAs("yaml")}>
            <Download aria-hidden />
            Export as YAML
          </DropdownMenuItem>
          <DropdownMenuItem onSelect={() => void exportAs("json")}>
            <Download aria-hidden />
            Export as JSON
          </DropdownMenuItem>
          {canDelete && !archived && (
            <>
              <DropdownMenuSeparator />
              <DropdownMenuItem
                className="text-destructive data-[highlighted]:bg-destructive/10 data-[highlighted]:text-destructive"
                onSelect={() => setConfirmArchive(true)}
              >
                <Archive aria-hidden />
                Archive…
              </DropdownMenuItem>
            </>
          )}
        </DropdownMenuContent>
      </DropdownMenu>
      <ConfirmDialog
        open={confirmArchive}
        onOpenChange={setConfirmArchive}
        title={`Archive ${agent.name}?`}
        description="It stops running and is hidden from the list. Its versions and run history are kept; you can restore it from the Archived filter."
        confirmLabel="Archive"
        onConfirm={() =>
          archive.mutateAsync(agent.id).then(() => {
            toast.success(`${agent.name} archived`);
          })
        }
      />
    </>
  );
}
