"use client";

import { CircleCheck, CircleDashed, CircleAlert, Cloud } from "lucide-react";
import * as React from "react";
import { toast } from "sonner";

import { Badge, type BadgeProps } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogHeader,
  DialogTitle,
  FormDialogFooter,
} from "@/components/ui/dialog";
import { LoadError } from "@/components/ui/empty-state";
import { Input } from "@/components/ui/input";
import { Field, FormError } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { ApiError, errorMessage } from "@/lib/api/errors";
import { formatDateTime } from "@/lib/utils";
import { since, useNow } from "@/lib/use-now";

import { SectionGate, SectionHeader } from "./components/section";
import {
  PROVIDER_STATE_LABELS,
  type ProviderKeyInput,
  type ProviderState,
  type ProviderStatus,
  providerForm,
  providerKeyBody,
  providerState,
} from "./providers";
import { useDeleteProviderKey, useProviders, usePutProviderKey } from "./queries";

const STATE_LOOKS: Record<ProviderState, { variant: BadgeProps["variant"]; Icon: typeof CircleCheck }> = {
  verified: { variant: "success", Icon: CircleCheck },
  unverified: { variant: "warning", Icon: CircleAlert },
  platform: { variant: "secondary", Icon: Cloud },
  none: { variant: "outline", Icon: CircleDashed },
};

export function ProvidersPage() {
  return (
    <SectionGate id="providers">
      <SectionHeader id="providers" />
      <ProviderList />
    </SectionGate>
  );
}

function ProviderList() {
  const providers = useProviders();
  const now = useNow();
  const [editing, setEditing] = React.useState<ProviderStatus | null>(null);

  if (providers.isPending) {
    return (
      <div className="grid gap-3" aria-busy aria-label="Loading providers">
        {Array.from({ length: 4 }, (_, index) => (
          <Skeleton key={index} className="h-[5.5rem] w-full rounded-xl" />
        ))}
      </div>
    );
  }
  if (providers.isError) {
    return <LoadError what="providers" error={providers.error} onRetry={() => void providers.refetch()} />;
  }
  return (
    <>
      <p className="mb-4 text-sm text-muted-foreground">
        Keys are encrypted at rest and never shown again after saving. AI steps use your organization&apos;s key for a
        provider when there is one.
      </p>
      <div className="grid gap-3">
        {providers.data.map((provider) => (
          <ProviderCard key={provider.provider} provider={provider} now={now} onEdit={() => setEditing(provider)} />
        ))}
      </div>
      <ProviderKeyDialog provider={editing} onClose={() => setEditing(null)} />
    </>
  );
}

function ProviderCard({ provider, now, onEdit }: { provider: ProviderStatus; now: number; onEdit: () => void }) {
  const remove = useDeleteProviderKey();
  const state = providerState(provider);
  const { variant, Icon } = STATE_LOOKS[state];
  const own = provider.source === "org";

  return (
    <Card
      className="flex flex-wrap items-center gap-4 p-5"
      data-testid={`provider-${provider.provider}`}
      data-state={state}
    >
      <div className="grid min-w-0 flex-1 gap-1.5">
        <div className="flex flex-wrap items-center gap-2">
          <h3 className="font-semibold">{provider.display_name}</h3>
          <Badge variant={variant}>
            <Icon className="size-3" aria-hidden />
            {PROVIDER_STATE_LABELS[state]}
          </Badge>
        </div>
        <p className="text-sm text-muted-foreground">
          {own ? (
            <>
              Your key <code className="font-mono text-xs text-foreground">{provider.key_hint ?? "…"}</code>
              {provider.base_url && (
                <>
                  {" "}
                  at <code className="font-mono text-xs break-all text-foreground">{provider.base_url}</code>
                </>
              )}
              {provider.updated_at && (
                <span title={formatDateTime(provider.updated_at)}> · updated {since(provider.updated_at, now)}</span>
              )}
            </>
          ) : state === "platform" ? (
            "Calls use the platform's key. Add your own to use your account and limits."
          ) : (
            "No key: AI steps that use this provider cannot run."
          )}
        </p>
        {state === "unverified" && provider.last_error && (
          <p className="text-xs text-amber-700 dark:text-warning" role="status">
            The check failed: {provider.last_error}
          </p>
        )}
      </div>
      <div className="flex items-center gap-2">
        {own && (
          <ConfirmDialog
            trigger={
              <Button variant="ghost-destructive" size="sm">
                Remove
              </Button>
            }
            title={`Remove the ${provider.display_name} key?`}
            description={
              state === "none"
                ? "AI steps that use this provider stop working until a new key is set."
                : "AI steps that use this provider fall back to the platform's key, if there is one, or stop working."
            }
            confirmLabel="Remove key"
            onConfirm={() =>
              remove.mutateAsync(provider.provider).then(() => toast.success(`${provider.display_name} key removed`))
            }
          />
        )}
        <Button
          variant={own ? "outline" : "default"}
          size="sm"
          onClick={onEdit}
          aria-label={`${own ? "Replace" : "Set"} ${provider.display_name} key`}
        >
          {own ? "Replace key" : "Set key"}
        </Button>
      </div>
    </Card>
  );
}

/** "OpenAI-compatible (Ollama, vLLM, …)" → "OpenAI-compatible", for titles. */
function shortName(displayName: string): string {
  return displayName.replace(/\s*\(.*\)\s*$/, "") || displayName;
}

const EMPTY_INPUT: ProviderKeyInput = { apiKey: "", baseUrl: "", apiVersion: "", organization: "" };

function ProviderKeyDialog({ provider, onClose }: { provider: ProviderStatus | null; onClose: () => void }) {
  const put = usePutProviderKey();
  const [input, setInput] = React.useState<ProviderKeyInput>(EMPTY_INPUT);
  const [problem, setProblem] = React.useState<{ field: keyof ProviderKeyInput; message: string } | null>(null);
  const [forProvider, setForProvider] = React.useState<string | null>(null);
  if (provider && provider.provider !== forProvider) {
    setForProvider(provider.provider);
    setInput({ ...EMPTY_INPUT, baseUrl: provider.base_url ?? "" });
    setProblem(null);
  }
  const form = providerForm(provider?.provider ?? "");
  const fields = put.error instanceof ApiError ? put.error.fieldErrors() : {};
  const general =
    put.error && !fields.api_key && !fields.base_url && !fields.api_version && !fields.organization
      ? errorMessage(put.error)
      : null;
  const errorFor = (field: keyof ProviderKeyInput, apiField: string) =>
    problem?.field === field ? problem.message : (fields[apiField] ?? null);

  function set(field: keyof ProviderKeyInput, value: string) {
    setInput((current) => ({ ...current, [field]: value }));
    setProblem(null);
    if (put.error) put.reset();
  }

  function close() {
    setForProvider(null);
    setInput(EMPTY_INPUT);
    put.reset();
    onClose();
  }

  function submit(event: React.FormEvent) {
    event.preventDefault();
    if (!provider) return;
    const result = providerKeyBody(provider.provider, input);
    if ("error" in result) {
      setProblem(result.error);
      return;
    }
    put.mutate(
      { provider: provider.provider, body: result.body },
      {
        onSuccess: (status) => {
          if (status.verified) toast.success(`${status.display_name} key saved and verified`);
          else
            toast.warning(`${status.display_name} key saved, but the check failed`, {
              description: status.last_error ?? undefined,
            });
          close();
        },
      },
    );
  }

  return (
    <Dialog
      open={provider !== null}
      onOpenChange={(next) => {
        if (!next && !put.isPending) close();
      }}
    >
      <DialogContent>
        {provider && (
          <form onSubmit={submit} className="grid gap-5" noValidate>
            <DialogHeader>
              <DialogTitle>
                {provider.source === "org" ? "Replace" : "Set"} the {shortName(provider.display_name)} key
              </DialogTitle>
              <DialogDescription>
                Stored encrypted and never shown again. We check it with one cheap call to the provider.
              </DialogDescription>
            </DialogHeader>
            <Field id="provider-key" label="API key" error={errorFor("apiKey", "api_key")}>
              <Input
                id="provider-key"
                type="password"
                value={input.apiKey}
                autoFocus
                autoComplete="off"
                spellCheck={false}
                maxLength={500}
                placeholder={form.keyPlaceholder}
                aria-invalid={Boolean(errorFor("apiKey", "api_key")) || undefined}
                onChange={(event) => set("apiKey", event.target.value)}
              />
            </Field>
            <Field
              id="provider-base-url"
              label={
                form.baseUrl === "required" ? (
                  "Base URL"
                ) : (
                  <>
                    Base URL{" "}
                    <span className="font-normal text-muted-foreground">(optional, for a proxy or gateway)</span>
                  </>
                )
              }
              error={errorFor("baseUrl", "base_url")}
            >
              <Input
                id="provider-base-url"
                type="url"
                value={input.baseUrl}
                maxLength={500}
                spellCheck={false}
                placeholder={form.baseUrlPlaceholder}
                aria-invalid={Boolean(errorFor("baseUrl", "base_url")) || undefined}
                onChange={(event) => set("baseUrl", event.target.value)}
              />
            </Field>
            {form.apiVersion && (
              <Field
                id="provider-api-version"
                label={
                  <>
                    API version <span className="font-normal text-muted-foreground">(Azure OpenAI only)</span>
                  </>
                }
                error={errorFor("apiVersion", "api_version")}
              >
                <Input
                  id="provider-api-version"
                  value={input.apiVersion}
                  maxLength={50}
                  placeholder="2024-10-21"
                  onChange={(event) => set("apiVersion", event.target.value)}
                />
              </Field>
            )}
            {form.organization && (
              <Field
                id="provider-organization"
                label={
                  <>
                    Organization ID <span className="font-normal text-muted-foreground">(optional)</span>
                  </>
                }
                error={errorFor("organization", "organization")}
              >
                <Input
                  id="provider-organization"
                  value={input.organization}
                  maxLength={100}
                  placeholder="org-…"
                  onChange={(event) => set("organization", event.target.value)}
                />
              </Field>
            )}
            {general && <FormError>{general}</FormError>}
            <FormDialogFooter pending={put.isPending}>
              {put.isPending ? "Verifying…" : "Save and verify"}
            </FormDialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}
