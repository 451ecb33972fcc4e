"use client";

import { useRouter } from "next/navigation";
import * as React from "react";

import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogHeader,
  DialogTitle,
  FormDialogFooter,
} from "@/components/ui/dialog";
import { Input, Textarea } from "@/components/ui/input";
import { Field, FormError } from "@/components/ui/label";
import { ApiError, errorMessage } from "@/lib/api/errors";

import { builderHref } from "../filters";
import { useCreateAgent } from "../queries";

/** A blank agent: name and description, then straight to the builder. */
export function CreateAgentDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const router = useRouter();
  const create = useCreateAgent();
  const [name, setName] = React.useState("");
  const [description, setDescription] = React.useState("");
  const [nameMissing, setNameMissing] = React.useState(false);

  const fields = create.error instanceof ApiError ? create.error.fieldErrors() : {};
  const general = create.error && !fields.name && !fields.description ? errorMessage(create.error) : null;
  const nameError = nameMissing ? "Give the agent a name." : (fields.name ?? null);

  function reset(next: boolean) {
    if (!next && !create.isPending) {
      setName("");
      setDescription("");
      setNameMissing(false);
      create.reset();
    }
    onOpenChange(next);
  }

  function submit(event: React.FormEvent) {
    event.preventDefault();
    if (!name.trim()) {
      setNameMissing(true);
      return;
    }
    create.mutate(
      { name: name.trim(), description: description.trim() || null },
      { onSuccess: (agent) => router.push(builderHref(agent.id)) },
    );
  }

  return (
    <Dialog open={open} onOpenChange={reset}>
      <DialogContent>
        <form onSubmit={submit} className="grid gap-5" noValidate>
          <DialogHeader>
            <DialogTitle>New agent</DialogTitle>
            <DialogDescription>Name it now; you will add its steps in the builder next.</DialogDescription>
          </DialogHeader>
          <Field id="agent-name" label="Name" error={nameError}>
            <Input
              id="agent-name"
              value={name}
              maxLength={255}
              autoFocus
              autoComplete="off"
              placeholder="e.g. Support ticket triage"
              aria-invalid={Boolean(nameError) || undefined}
              aria-describedby={nameError ? "agent-name-error" : undefined}
              onChange={(event) => {
                setName(event.target.value);
                setNameMissing(false);
              }}
            />
          </Field>
          <Field
            id="agent-description"
            label={
              <>
                Description <span className="font-normal text-muted-foreground">(optional)</span>
              </>
            }
            hint="What it does and for whom; it shows in the agents list."
            error={fields.description ?? null}
          >
            <Textarea
              id="agent-description"
              value={description}
              maxLength={5000}
              rows={3}
              aria-describedby={fields.description ? "agent-description-error" : "agent-description-hint"}
              onChange={(event) => setDescription(event.target.value)}
            />
          </Field>
          {general && <FormError>{general}</FormError>}
          <FormDialogFooter pending={create.isPending || create.isSuccess}>Create agent</FormDialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
