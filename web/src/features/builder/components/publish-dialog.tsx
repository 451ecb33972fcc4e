"use client";

import { AlertCircle, Rocket } from "lucide-react";
import * as React from "react";
import { toast } from "sonner";

import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
} from "@/components/ui/dialog";
import { Textarea } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { ApiError, errorMessage } from "@/lib/api/errors";

import { saveNow, useSaveStore } from "../autosave";
import { issuesOf, useDiff, usePublish } from "../queries";
import { useBuilderStore, useIssueStore } from "../store";
import { DiffView } from "./diff-view";

export function PublishDialog({
  agentId,
  latestVersion,
  open,
  onOpenChange,
}: {
  agentId: string;
  latestVersion: number | null;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent className="max-w-xl">
        <DialogHeader>
          <DialogTitle>Publish version {(latestVersion ?? 0) + 1}</DialogTitle>
          <DialogDescription>
            The draft becomes an immutable version; new runs use it. You can keep editing the draft afterwards.
          </DialogDescription>
        </DialogHeader>
        {open && <PublishForm agentId={agentId} latestVersion={latestVersion} onDone={() => onOpenChange(false)} />}
      </DialogContent>
    </Dialog>
  );
}

/** Mounted each time the dialog opens: it saves first, so the summary and the issues describe what
 *  would be published. */
function PublishForm({
  agentId,
  latestVersion,
  onDone,
}: {
  agentId: string;
  latestVersion: number | null;
  onDone: () => void;
}) {
  const [message, setMessage] = React.useState("");
  const [error, setError] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);
  const [saved, setSaved] = React.useState(false);
  const issueCount = useIssueStore((state) => state.issues.length);
  const setIssues = useBuilderStore((state) => state.setIssues);
  const publish = usePublish(agentId);
  const diff = useDiff(agentId, saved && latestVersion ? String(latestVersion) : null, "draft");

  React.useEffect(() => {
    let cancelled = false;
    void saveNow().then((ok) => {
      if (cancelled) return;
      setSaved(true);
      if (!ok) setError(useSaveStore.getState().error ?? "The draft could not be saved.");
    });
    return () => {
      cancelled = true;
    };
  }, []);

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      if (!(await saveNow())) {
        setError(useSaveStore.getState().error ?? "The draft could not be saved.");
        return;
      }
      const version = await publish.mutateAsync({
        change_message: message.trim() || null,
        draft_revision: useSaveStore.getState().revision,
      });
      toast.success(`Published version ${version.version}`);
      onDone();
    } catch (caught) {
      const issues = issuesOf(caught);
      if (issues) {
        setIssues(issues);
        setError(`Fix the ${issues.length} problem${issues.length === 1 ? "" : "s"} first (see Problems).`);
      } else if (caught instanceof ApiError && caught.status === 409) {
        setError(`${caught.message}.`);
      } else setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  const blocked = issueCount > 0;
  return (
    <form
      className="grid grid-cols-1 gap-4"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      {blocked && saved && (
        <p
          role="alert"
          className="flex items-start gap-2 rounded-md border border-destructive/30 bg-destructive/10 px-3 py-2 text-sm text-destructive"
        >
          <AlertCircle className="mt-0.5 size-4 shrink-0" aria-hidden />
          The draft has {issueCount} problem{issueCount === 1 ? "" : "s"}; fix {issueCount === 1 ? "it" : "them"} before
          publishing.
        </p>
      )}
      <Field
        id="publish-message"
        label="Change message"
        hint="Optional. What changed and why; shown in the version history."
      >
        <Textarea
          id="publish-message"
          value={message}
          onChange={(event) => setMessage(event.target.value)}
          maxLength={2000}
          rows={3}
          placeholder="e.g. Route refunds to the billing team"
          aria-describedby="publish-message-hint"
          autoFocus
        />
      </Field>
      {latestVersion !== null && (
        <div className="grid max-h-64 gap-2 overflow-y-auto rounded-lg border p-3">
          <p className="text-xs font-semibold text-muted-foreground">Changes since version {latestVersion}</p>
          {diff.isError ? (
            <p className="text-sm text-muted-foreground">{diff.error.message}</p>
          ) : (
            <DiffView diff={diff.data} loading={!saved || diff.isPending} />
          )}
        </div>
      )}
      {error && (
        <p
          role="alert"
          className="rounded-md border border-destructive/30 bg-destructive/10 px-3 py-2 text-sm text-destructive"
        >
          {error}
        </p>
      )}
      <DialogFooter>
        <Button type="button" variant="outline" onClick={onDone}>
          Cancel
        </Button>
        <Button type="submit" loading={busy} disabled={!saved || blocked}>
          {!busy && <Rocket aria-hidden />}
          Publish version
        </Button>
      </DialogFooter>
    </form>
  );
}
