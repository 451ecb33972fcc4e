"use client";

import { AlertTriangle } from "lucide-react";
import * as React from "react";
import { toast } from "sonner";

import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm";
import { errorMessage } from "@/lib/api/errors";

import { markLoaded, overwriteTheirs, takeTheirs, useSaveStore } from "../autosave";
import { useBuilderStore } from "../store";
import type { Definition, Issue } from "../types";

/** Someone else saved the draft since it was loaded: take theirs, or overwrite it with ours. */
export function ConflictBanner({ agentId }: { agentId: string }) {
  const conflict = useSaveStore((state) => state.conflict);
  const [busy, setBusy] = React.useState<"theirs" | "mine" | null>(null);
  const [confirmOverwrite, setConfirmOverwrite] = React.useState(false);
  if (!conflict) return null;

  async function reloadTheirs() {
    setBusy("theirs");
    try {
      const draft = await takeTheirs(agentId);
      const { catalog, readOnly, load, setIssues } = useBuilderStore.getState();
      load(draft.definition as unknown as Definition, catalog, { readOnly });
      setIssues(draft.issues as Issue[]);
      markLoaded(draft.revision);
      toast.success("Loaded the latest draft");
    } catch (error) {
      toast.error(errorMessage(error));
    } finally {
      setBusy(null);
    }
  }

  async function overwrite() {
    setBusy("mine");
    try {
      if (await overwriteTheirs()) toast.success("Your version of the draft is saved");
    } finally {
      setBusy(null);
    }
  }

  return (
    <div
      role="alert"
      className="flex flex-wrap items-center gap-3 border-b border-destructive/30 bg-destructive/10 px-4 py-2.5 text-sm"
    >
      <AlertTriangle className="size-4 shrink-0 text-destructive" aria-hidden />
      <p className="min-w-0 flex-1">
        <span className="font-medium">Someone else saved this draft while you were editing.</span>{" "}
        <span className="text-muted-foreground">
          Your changes are not saved. Load theirs, or overwrite them with yours.
        </span>
      </p>
      <div className="flex gap-2">
        <Button
          size="sm"
          variant="outline"
          loading={busy === "theirs"}
          disabled={busy !== null}
          onClick={() => void reloadTheirs()}
        >
          Reload theirs
        </Button>
        <Button
          size="sm"
          variant="destructive"
          loading={busy === "mine"}
          disabled={busy !== null}
          onClick={() => setConfirmOverwrite(true)}
        >
          Overwrite with mine
        </Button>
      </div>
      <ConfirmDialog
        open={confirmOverwrite}
        onOpenChange={setConfirmOverwrite}
        title="Overwrite their changes?"
        description="The draft on the server is replaced by what you see on your canvas. Their changes are lost (published versions are not affected)."
        confirmLabel="Overwrite with mine"
        onConfirm={overwrite}
      />
    </div>
  );
}
