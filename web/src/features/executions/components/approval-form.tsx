"use client";

import { Check, X } from "lucide-react";
import * as React from "react";

import { Button } from "@/components/ui/button";
import { Textarea } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { ApiError, errorMessage } from "@/lib/api/errors";

import { type Execution, useDecide } from "../queries";

export type Decision = "approve" | "reject";

/**
 * Approve or reject a waiting run, with an optional comment. A 409 means someone else decided
 * first: `onConflict` gets the API's message (the caller shows it and refreshes).
 */
export function ApprovalForm({
  executionId,
  onDecided,
  onConflict,
  compact = false,
}: {
  executionId: string;
  onDecided?: (decision: Decision, execution: Execution) => void;
  onConflict: (message: string) => void;
  compact?: boolean;
}) {
  const [comment, setComment] = React.useState("");
  const [error, setError] = React.useState<string | null>(null);
  const [pending, setPending] = React.useState<Decision | null>(null);
  const decide = useDecide();
  const id = `comment-${executionId}`;

  async function submit(decision: Decision) {
    setError(null);
    setPending(decision);
    try {
      const execution = await decide.mutateAsync({ id: executionId, decision, comment });
      setComment("");
      onDecided?.(decision, execution);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 409) onConflict(caught.message);
      else setError(errorMessage(caught));
    } finally {
      setPending(null);
    }
  }

  return (
    <form
      className="grid gap-3"
      onSubmit={(event) => {
        event.preventDefault();
        void submit("approve");
      }}
    >
      <Field
        id={id}
        label="Comment"
        hint={compact ? undefined : "Optional. Saved with the decision and passed on to the next steps."}
      >
        <Textarea
          id={id}
          value={comment}
          onChange={(event) => setComment(event.target.value)}
          maxLength={2000}
          rows={compact ? 2 : 3}
          placeholder={compact ? "Optional: why you approve or reject" : "Why you approve or reject"}
          aria-describedby={compact ? undefined : `${id}-hint`}
          disabled={pending !== null}
        />
      </Field>
      {error && (
        <p
          role="alert"
          className="rounded-md border border-destructive/30 bg-destructive/10 px-3 py-2 text-sm text-destructive"
        >
          {error}
        </p>
      )}
      <div className="flex flex-wrap justify-end gap-2">
        <Button
          type="button"
          variant="outline"
          className="text-destructive hover:text-destructive"
          loading={pending === "reject"}
          disabled={pending !== null}
          onClick={() => void submit("reject")}
        >
          {pending !== "reject" && <X aria-hidden />}
          Reject
        </Button>
        <Button type="submit" loading={pending === "approve"} disabled={pending !== null}>
          {pending !== "approve" && <Check aria-hidden />}
          Approve
        </Button>
      </div>
    </form>
  );
}
