"use client";

import { Globe, Plug, Plus } from "lucide-react";
import * as React from "react";
import { toast } from "sonner";

import { Badge } from "@/components/ui/badge";
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
import { EmptyState, LoadError } from "@/components/ui/empty-state";
import { Input, NativeSelect } from "@/components/ui/input";
import { Field, FormError } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { ApiError, errorMessage } from "@/lib/api/errors";
import { useCan } from "@/lib/auth/session";
import { formatDateTime } from "@/lib/utils";
import { since, useNow } from "@/lib/use-now";

import { SectionGate, SectionHeader } from "./components/section";
import {
  AUTH_TYPES,
  AUTH_TYPE_LABELS,
  type AuthType,
  type AvailableIntegration,
  type ConnectInput,
  EMPTY_CONNECT_INPUT,
  type Integration,
  connectBody,
  formFieldOf,
} from "./integrations";
import { useAvailableIntegrations, useConnectIntegration, useDisconnectIntegration, useIntegrations } from "./queries";

export function IntegrationsPage() {
  const canManage = useCan("integrations.manage");
  const available = useAvailableIntegrations();
  const [connecting, setConnecting] = React.useState<AvailableIntegration | null>(null);
  // Key-based integrations are connected here; OAuth ones arrive with their own flow.
  const connectable = (available.data ?? []).filter((integration) => integration.connect === "credentials");
  return (
    <SectionGate id="integrations">
      <SectionHeader
        id="integrations"
        actions={
          canManage &&
          connectable.map((integration) => (
            <Button key={integration.provider} onClick={() => setConnecting(integration)}>
              <Plus aria-hidden />
              Connect {integration.display_name}
            </Button>
          ))
        }
      />
      <IntegrationList canManage={canManage} available={available.data ?? []} />
      <ConnectDialog integration={connecting} onClose={() => setConnecting(null)} />
    </SectionGate>
  );
}

function IntegrationList({ canManage, available }: { canManage: boolean; available: AvailableIntegration[] }) {
  const integrations = useIntegrations();
  const now = useNow();

  if (integrations.isPending) {
    return (
      <div className="grid gap-3" aria-busy aria-label="Loading integrations">
        {Array.from({ length: 3 }, (_, index) => (
          <Skeleton key={index} className="h-[4.5rem] w-full rounded-xl" />
        ))}
      </div>
    );
  }
  if (integrations.isError) {
    return <LoadError what="integrations" error={integrations.error} onRetry={() => void integrations.refetch()} />;
  }
  if (integrations.data.length === 0) {
    return (
      <EmptyState
        icon={Plug}
        title="Nothing connected yet"
        description={
          canManage
            ? "Connect an API's token or key once; action steps then pick it by name, and nobody sees the secret again."
            : "An admin or owner can connect accounts for this organization's action steps."
        }
      />
    );
  }
  const displayName = (provider: string) =>
    available.find((integration) => integration.provider === provider)?.display_name ?? provider;
  return (
    <>
      <p className="mb-4 text-sm text-muted-foreground">
        Secrets are encrypted at rest and never shown again; the last characters tell two connections apart. In the
        builder, an action step&apos;s Credential field lists these by name.
      </p>
      <div className="grid gap-3">
        {integrations.data.map((integration) => (
          <IntegrationCard
            key={integration.id}
            integration={integration}
            providerName={displayName(integration.provider)}
            canManage={canManage}
            now={now}
          />
        ))}
      </div>
    </>
  );
}

function IntegrationCard({
  integration,
  providerName,
  canManage,
  now,
}: {
  integration: Integration;
  providerName: string;
  canManage: boolean;
  now: number;
}) {
  const disconnect = useDisconnectIntegration();
  const name = integration.name || providerName;
  return (
    <Card className="flex flex-wrap items-center gap-4 p-5" data-testid={`integration-${integration.id}`}>
      <div className="flex size-9 shrink-0 items-center justify-center rounded-lg bg-muted">
        <Globe className="size-4 text-muted-foreground" aria-hidden />
      </div>
      <div className="grid min-w-0 flex-1 gap-1">
        <div className="flex flex-wrap items-center gap-2">
          <h3 className="truncate font-semibold">{name}</h3>
          <Badge variant={integration.status === "connected" ? "success" : "warning"}>{integration.status}</Badge>
        </div>
        <p className="text-sm text-muted-foreground">
          {providerName}
          {integration.auth_type && <> · {AUTH_TYPE_LABELS[integration.auth_type] ?? integration.auth_type}</>}
          {" · "}
          <code className="font-mono text-xs text-foreground">{integration.hint}</code>
          <span title={formatDateTime(integration.created_at)}> · connected {since(integration.created_at, now)}</span>
        </p>
      </div>
      {canManage && (
        <ConfirmDialog
          trigger={
            <Button variant="ghost-destructive" size="sm" aria-label={`Disconnect ${name}`}>
              Disconnect
            </Button>
          }
          title={`Disconnect ${name}?`}
          description="Its secret is deleted. Action steps that use it fail until they are given another connection."
          confirmLabel="Disconnect"
          onConfirm={() => disconnect.mutateAsync(integration.id).then(() => toast.success(`${name} disconnected`))}
        />
      )}
    </Card>
  );
}

function ConnectDialog({ integration, onClose }: { integration: AvailableIntegration | null; onClose: () => void }) {
  const connect = useConnectIntegration();
  const [input, setInput] = React.useState<ConnectInput>(EMPTY_CONNECT_INPUT);
  const [problem, setProblem] = React.useState<{ field: keyof ConnectInput; message: string } | null>(null);
  const form = AUTH_TYPES[input.authType];

  const serverFields: Partial<Record<keyof ConnectInput, string>> = {};
  if (connect.error instanceof ApiError) {
    for (const [path, message] of Object.entries(connect.error.fieldErrors())) {
      const field = formFieldOf(path);
      if (field) serverFields[field] ??= message;
    }
  }
  const general = connect.error && Object.keys(serverFields).length === 0 ? errorMessage(connect.error) : null;
  const errorFor = (field: keyof ConnectInput) =>
    problem?.field === field ? problem.message : (serverFields[field] ?? null);

  function set(field: keyof ConnectInput, value: string) {
    setInput((current) => ({ ...current, [field]: value }));
    setProblem(null);
    if (connect.error) connect.reset();
  }

  function close() {
    setInput(EMPTY_CONNECT_INPUT);
    setProblem(null);
    connect.reset();
    onClose();
  }

  function submit(event: React.FormEvent) {
    event.preventDefault();
    if (!integration) return;
    const result = connectBody(input);
    if ("error" in result) {
      setProblem(result.error);
      return;
    }
    connect.mutate(
      { provider: integration.provider, body: result.body },
      {
        onSuccess: (created) => {
          toast.success(`${created.name ?? integration.display_name} connected`);
          close();
        },
      },
    );
  }

  return (
    <Dialog
      open={integration !== null}
      onOpenChange={(next) => {
        if (!next && !connect.isPending) close();
      }}
    >
      <DialogContent>
        {integration && (
          <form onSubmit={submit} className="grid gap-5" noValidate>
            <DialogHeader>
              <DialogTitle>Connect {integration.display_name}</DialogTitle>
              <DialogDescription>
                {integration.description} The secret is stored encrypted and never shown again.
              </DialogDescription>
            </DialogHeader>
            <Field
              id="integration-name"
              label="Name"
              hint="How action steps list it, e.g. the API it is for."
              error={errorFor("name")}
            >
              <Input
                id="integration-name"
                value={input.name}
                autoFocus
                maxLength={255}
                placeholder="Billing API"
                aria-invalid={Boolean(errorFor("name")) || undefined}
                onChange={(event) => set("name", event.target.value)}
              />
            </Field>
            <Field id="integration-auth-type" label="Authentication" hint={form.summary}>
              <NativeSelect
                id="integration-auth-type"
                value={input.authType}
                onChange={(event) => set("authType", event.target.value as AuthType)}
              >
                {Object.entries(AUTH_TYPES).map(([type, option]) => (
                  <option key={type} value={type}>
                    {option.title}
                  </option>
                ))}
              </NativeSelect>
            </Field>
            {form.labelField && (
              <Field id="integration-label" label={form.labelField.title} error={errorFor("label")}>
                <Input
                  id="integration-label"
                  value={input.label}
                  maxLength={255}
                  spellCheck={false}
                  autoComplete="off"
                  placeholder={form.labelField.placeholder}
                  aria-invalid={Boolean(errorFor("label")) || undefined}
                  onChange={(event) => set("label", event.target.value)}
                />
              </Field>
            )}
            <Field id="integration-secret" label={form.secretTitle} error={errorFor("secret")}>
              <Input
                id="integration-secret"
                type="password"
                value={input.secret}
                maxLength={4096}
                spellCheck={false}
                autoComplete="off"
                aria-invalid={Boolean(errorFor("secret")) || undefined}
                onChange={(event) => set("secret", event.target.value)}
              />
            </Field>
            {general && <FormError>{general}</FormError>}
            <FormDialogFooter pending={connect.isPending}>Connect</FormDialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}
