"use client";

import { Check, Copy, TriangleAlert } from "lucide-react";
import * as React from "react";

import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogClose,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  FormDialogFooter,
} from "@/components/ui/dialog";
import { Input, NativeSelect } from "@/components/ui/input";
import { Field, FormError } from "@/components/ui/label";
import { ApiError, errorMessage } from "@/lib/api/errors";
import { useSession } from "@/lib/auth/session";
import { cn } from "@/lib/utils";

import {
  type CreatedApiKey,
  EXPIRY_CHOICES,
  type ExpiryChoice,
  SCOPES,
  canGrant,
  expiryToIso,
  initialScopes,
  keyDialogReducer,
  scopeLabel,
  toggleScope,
} from "../api-keys";
import { useCreateApiKey } from "../queries";

const NO_PERMISSIONS: string[] = [];

function tomorrow(): string {
  const date = new Date();
  date.setDate(date.getDate() + 1);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}

/** Create a key (name, scopes, expiry), then show its secret once with a copy button. */
export function CreateApiKeyDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const [state, dispatch] = React.useReducer(keyDialogReducer, { step: "form" });
  const create = useCreateApiKey();

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        if (!next && create.isPending) return;
        if (!next) {
          // The secret leaves memory with the dialog.
          dispatch({ type: "reset" });
          create.reset();
        }
        onOpenChange(next);
      }}
    >
      <DialogContent
        className="max-w-xl"
        onInteractOutside={(event) => state.step === "reveal" && event.preventDefault()}
      >
        {state.step === "reveal" ? (
          <RevealKey created={state.key} copied={state.copied} onCopied={() => dispatch({ type: "copied" })} />
        ) : (
          <KeyForm
            pending={create.isPending}
            error={create.error}
            onClearError={() => create.error && create.reset()}
            onSubmit={(body) => create.mutate(body, { onSuccess: (key) => dispatch({ type: "created", key }) })}
          />
        )}
      </DialogContent>
    </Dialog>
  );
}

function KeyForm({
  pending,
  error,
  onClearError,
  onSubmit,
}: {
  pending: boolean;
  error: Error | null;
  onClearError: () => void;
  onSubmit: (body: { name: string; scopes: string[]; expires_at: string | null }) => void;
}) {
  const permissions = useSession((state) => state.me?.permissions) ?? NO_PERMISSIONS;
  const [name, setName] = React.useState("");
  const [scopes, setScopes] = React.useState<string[]>(() => initialScopes(permissions));
  const [expiry, setExpiry] = React.useState<ExpiryChoice>("never");
  const [day, setDay] = React.useState("");
  const [problems, setProblems] = React.useState<{ name?: string; scopes?: string; expiry?: string }>({});

  const fields = error instanceof ApiError ? error.fieldErrors() : {};
  const general = error && !fields.name && !fields.scopes && !fields.expires_at ? errorMessage(error) : null;
  const nameError = problems.name ?? fields.name ?? null;
  const scopesError = problems.scopes ?? fields.scopes ?? null;
  const expiryError = problems.expiry ?? fields.expires_at ?? null;

  function submit(event: React.FormEvent) {
    event.preventDefault();
    const found: typeof problems = {};
    if (!name.trim()) found.name = "Name the key after what uses it, e.g. “CI deploys”.";
    if (scopes.length === 0) found.scopes = "Choose at least one scope.";
    let expiresAt: string | null = null;
    try {
      expiresAt = expiryToIso(expiry, day);
    } catch (problem) {
      found.expiry = (problem as Error).message;
    }
    setProblems(found);
    if (Object.keys(found).length === 0) onSubmit({ name: name.trim(), scopes, expires_at: expiresAt });
  }

  return (
    <form onSubmit={submit} className="grid gap-5" noValidate>
      <DialogHeader>
        <DialogTitle>Create API key</DialogTitle>
        <DialogDescription>
          For scripts, CI and the SDKs. A key can do only what its scopes allow, and never more than your role.
        </DialogDescription>
      </DialogHeader>
      <Field id="key-name" label="Name" error={nameError}>
        <Input
          id="key-name"
          value={name}
          autoFocus
          autoComplete="off"
          maxLength={255}
          placeholder="e.g. CI deploys"
          aria-invalid={Boolean(nameError) || undefined}
          onChange={(event) => {
            setName(event.target.value);
            setProblems((current) => ({ ...current, name: undefined }));
            onClearError();
          }}
        />
      </Field>
      <fieldset className="grid gap-2" aria-describedby={scopesError ? "key-scopes-error" : undefined}>
        <legend className="mb-1.5 text-sm font-medium">Scopes</legend>
        <div className="grid gap-1 rounded-lg border p-1.5 sm:grid-cols-2">
          {SCOPES.map((scope) => {
            const allowed = canGrant(scope, permissions);
            const id = `scope-${scope.id.replace(":", "-")}`;
            return (
              <label
                key={scope.id}
                htmlFor={id}
                className={cn(
                  "flex cursor-pointer items-start gap-2.5 rounded-md px-2 py-1.5 hover:bg-accent/60",
                  !allowed && "cursor-not-allowed opacity-50 hover:bg-transparent",
                )}
                title={allowed ? undefined : "Your role cannot grant this scope"}
              >
                <input
                  id={id}
                  type="checkbox"
                  className="mt-0.5 size-4 shrink-0 accent-primary"
                  checked={scopes.includes(scope.id)}
                  disabled={!allowed}
                  onChange={(event) => {
                    setScopes(toggleScope(scopes, scope.id, event.target.checked));
                    setProblems((current) => ({ ...current, scopes: undefined }));
                    onClearError();
                  }}
                />
                <span className="grid gap-0.5">
                  <span className="text-sm leading-none font-medium">{scope.label}</span>
                  <span className="text-xs text-muted-foreground">{scope.description}</span>
                  <code className="font-mono text-[11px] text-muted-foreground/80">{scope.id}</code>
                </span>
              </label>
            );
          })}
        </div>
        {scopesError && (
          <p id="key-scopes-error" role="alert" className="text-xs font-medium text-destructive">
            {scopesError}
          </p>
        )}
      </fieldset>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field id="key-expiry" label="Expires" error={expiry === "custom" ? null : expiryError}>
          <NativeSelect
            id="key-expiry"
            value={expiry}
            onChange={(event) => {
              const next = event.target.value as ExpiryChoice;
              setExpiry(next);
              if (next === "custom" && !day) setDay(tomorrow());
              setProblems((current) => ({ ...current, expiry: undefined }));
            }}
          >
            {EXPIRY_CHOICES.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </NativeSelect>
        </Field>
        {expiry === "custom" && (
          <Field id="key-expiry-day" label="Expiry date" error={expiryError}>
            <Input
              id="key-expiry-day"
              type="date"
              value={day}
              min={tomorrow()}
              aria-invalid={Boolean(expiryError) || undefined}
              onChange={(event) => {
                setDay(event.target.value);
                setProblems((current) => ({ ...current, expiry: undefined }));
              }}
            />
          </Field>
        )}
      </div>
      {general && <FormError>{general}</FormError>}
      <FormDialogFooter pending={pending}>Create key</FormDialogFooter>
    </form>
  );
}

function RevealKey({ created, copied, onCopied }: { created: CreatedApiKey; copied: boolean; onCopied: () => void }) {
  const secretRef = React.useRef<HTMLElement>(null);
  const [copyFailed, setCopyFailed] = React.useState(false);

  async function copy() {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopyFailed(false);
      onCopied();
    } catch {
      // No clipboard (permissions, insecure context): select the text so Ctrl+C works.
      setCopyFailed(true);
      const node = secretRef.current;
      if (node) window.getSelection()?.selectAllChildren(node);
    }
  }

  return (
    <>
      <DialogHeader>
        <DialogTitle>Copy your new API key</DialogTitle>
        <DialogDescription>
          {created.name} · {created.scopes.map(scopeLabel).join(", ")}
        </DialogDescription>
      </DialogHeader>
      <div
        role="status"
        className="flex gap-3 rounded-lg border border-warning/40 bg-warning/10 p-3 text-sm text-amber-800 dark:text-warning"
      >
        <TriangleAlert className="mt-0.5 size-4 shrink-0" aria-hidden />
        <p>
          <strong className="font-semibold">You won&apos;t see this key again.</strong> Store it now in a password
          manager or your CI&apos;s secrets. If it is lost, revoke it and create another.
        </p>
      </div>
      <div className="flex items-stretch gap-2">
        <code
          ref={secretRef}
          data-testid="api-key-secret"
          aria-label="Your new API key"
          className="min-w-0 flex-1 rounded-md border bg-muted/40 px-3 py-2 font-mono text-sm break-all select-all"
        >
          {created.key}
        </code>
        <Button type="button" variant={copied ? "outline" : "default"} onClick={() => void copy()} className="h-auto">
          {copied ? <Check aria-hidden /> : <Copy aria-hidden />}
          {copied ? "Copied" : "Copy"}
        </Button>
      </div>
      {copyFailed && (
        <p role="alert" className="text-xs text-destructive">
          Could not reach the clipboard: the key is selected, press Ctrl+C (⌘C) to copy it.
        </p>
      )}
      <DialogFooter>
        <DialogClose asChild>
          <Button variant={copied ? "default" : "outline"}>{copied ? "Done" : "I've stored it"}</Button>
        </DialogClose>
      </DialogFooter>
    </>
  );
}
