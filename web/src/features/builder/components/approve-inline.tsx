"use client";

import { useMutation } from "@tanstack/react-query";
import { Check, X } from "lucide-react";
import * as React from "react";
import { toast } from "sonner";

import { Button } from "@/components/ui/button";
import { Textarea } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { api, unwrap } from "@/lib/api/client";
import { ApiError, errorMessage } from "@/lib/api/errors";

type Decision = "approve" | "reject";

/** Approve or reject the test run's waiting step right in the builder, with an optional comment. */
export function ApproveInline({ executionId }: { executionId: string }) {
  const [comment, setComment] = React.useState("");
  const [error, setError] = React.useState<string | null>(null);
  const decide = useMutation({
    mutationFn: (decision: Decision) =>
      unwrap(
        api.POST("/api/v1/executions/{execution_id}/approve", {
          params: { path: { execution_id: executionId } },
          body: { decision, comment: comment.trim() || null },
        }),
      ),
    meta: { silent: true },
  });
  const id = `approve-comment-${executionId}`;

  async function submit(decision: Decision) {
    setError(null);
    try {
      await decide.mutateAsync(decision);
      setComment("");
      toast.success(decision === "approve" ? "Approved" : "Rejected");
    } catch (caught) {
      // 409: someone decided first; the stream shows what happened next.
      if (caught instanceof ApiError && caught.status === 409) toast.info(caught.message);
      else setError(errorMessage(caught));
    }
  }

  const pending = decide.isPending ? decide.variables : null;
  return (
    <form
      className="grid grid-cols-1 gap-2"
      onSubmit={(event) => {
        event.preventDefault();
        void submit("approve");
      }}
    >
      <Label htmlFor={id}>Comment</Label>
      <Textarea
        id={id}
        value={comment}
        onChange={(event) => setComment(event.target.value)}
        maxLength={2000}
        rows={2}
        placeholder="Optional: why you approve or reject"
        disabled={decide.isPending}
      />
      {error && (
        <p role="alert" className="text-xs font-medium text-destructive">
          {error}
        </p>
      )}
      <div className="flex justify-end gap-2">
        <Button
          type="button"
          variant="outline"
          size="sm"
          className="text-destructive hover:text-destructive"
          loading={pending === "reject"}
          disabled={decide.isPending}
          onClick={() => void submit("reject")}
        >
          {pending !== "reject" && <X aria-hidden />}
          Reject
        </Button>
        <Button type="submit" size="sm" loading={pending === "approve"} disabled={decide.isPending}>
          {pending !== "approve" && <Check aria-hidden />}
          Approve
        </Button>
      </div>
    </form>
  );
}
