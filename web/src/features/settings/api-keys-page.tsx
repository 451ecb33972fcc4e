"use client";

import { KeyRound, Plus } from "lucide-react";
import * as React from "react";
import { toast } from "sonner";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm";
import { EmptyState, LoadError } from "@/components/ui/empty-state";
import { Skeleton } from "@/components/ui/skeleton";
import { TBody, THead, Table, Td, Th, Tr } from "@/components/ui/table";

import { cn, formatDateTime } from "@/lib/utils";
import { since, useNow } from "@/lib/use-now";

import { type ApiKey, keyState, scopeLabel } from "./api-keys";
import { CreateApiKeyDialog } from "./components/create-api-key-dialog";
import { SectionGate, SectionHeader } from "./components/section";
import { flattenPages, useApiKeys, useRevokeApiKey } from "./queries";

export function ApiKeysPage() {
  const [creating, setCreating] = React.useState(false);
  return (
    <SectionGate id="api-keys">
      <SectionHeader
        id="api-keys"
        actions={
          <Button onClick={() => setCreating(true)}>
            <Plus aria-hidden />
            Create API key
          </Button>
        }
      />
      <KeysList />
      <CreateApiKeyDialog open={creating} onOpenChange={setCreating} />
    </SectionGate>
  );
}

const STATE_BADGES = {
  active: { label: "Active", variant: "success" },
  revoked: { label: "Revoked", variant: "outline" },
  expired: { label: "Expired", variant: "secondary" },
} as const;

function Head() {
  return (
    <THead>
      <tr>
        <Th>Key</Th>
        <Th>Scopes</Th>
        <Th className="whitespace-nowrap">Last used</Th>
        <Th>Expires</Th>
        <Th>Status</Th>
        <Th>
          <span className="sr-only">Actions</span>
        </Th>
      </tr>
    </THead>
  );
}

function KeysList() {
  const keys = useApiKeys();
  const now = useNow();
  const items = flattenPages(keys.data);

  if (keys.isPending) {
    return (
      <Table aria-busy aria-label="Loading API keys">
        <Head />
        <TBody>
          {Array.from({ length: 3 }, (_, index) => (
            <Tr key={index}>
              <Td>
                <Skeleton className="h-4 w-32" />
                <Skeleton className="mt-1.5 h-3 w-24" />
              </Td>
              <Td>
                <Skeleton className="h-5 w-40" />
              </Td>
              {Array.from({ length: 4 }, (_, cell) => (
                <Td key={cell}>
                  <Skeleton className="h-4 w-16" />
                </Td>
              ))}
            </Tr>
          ))}
        </TBody>
      </Table>
    );
  }
  if (keys.isError) {
    return <LoadError what="API keys" error={keys.error} onRetry={() => void keys.refetch()} />;
  }
  if (items.length === 0) {
    return (
      <EmptyState
        icon={KeyRound}
        title="No API keys yet"
        description="Create a key to call the API from scripts, CI or the SDKs. Each key has only the scopes you give it."
      />
    );
  }
  return (
    <div className="grid gap-3">
      <Table aria-label="API keys">
        <Head />
        <TBody>
          {items.map((key) => (
            <KeyRow key={key.id} apiKey={key} now={now} />
          ))}
        </TBody>
      </Table>
      {keys.hasNextPage && (
        <div className="flex justify-center">
          <Button variant="outline" onClick={() => void keys.fetchNextPage()} loading={keys.isFetchingNextPage}>
            Load more
          </Button>
        </div>
      )}
    </div>
  );
}

function KeyRow({ apiKey, now }: { apiKey: ApiKey; now: number }) {
  const revoke = useRevokeApiKey();
  const state = keyState(apiKey, now);
  const badge = STATE_BADGES[state];
  const live = state === "active";

  return (
    <Tr data-testid={`api-key-${apiKey.name}`} data-state={state} className={cn(!live && "text-muted-foreground")}>
      <Td className="max-w-44">
        <p className={cn("truncate font-medium", !live && "line-through decoration-muted-foreground/60")}>
          {apiKey.name}
        </p>
        <code className="font-mono text-xs text-muted-foreground">{apiKey.prefix}…</code>
      </Td>
      <Td>
        <div className="flex flex-wrap gap-1">
          {apiKey.scopes.map((scope) => (
            <Badge key={scope} variant="secondary" title={scopeLabel(scope)} className="font-mono text-[11px]">
              {scope}
            </Badge>
          ))}
        </div>
      </Td>
      <Td
        className="whitespace-nowrap text-muted-foreground"
        title={apiKey.last_used_at ? formatDateTime(apiKey.last_used_at) : undefined}
      >
        {apiKey.last_used_at ? since(apiKey.last_used_at, now) : "Never"}
      </Td>
      <Td
        className="whitespace-nowrap text-muted-foreground"
        title={apiKey.expires_at ? formatDateTime(apiKey.expires_at) : undefined}
      >
        {apiKey.expires_at
          ? new Date(apiKey.expires_at).toLocaleDateString(undefined, { dateStyle: "medium" })
          : "Never"}
      </Td>
      <Td>
        <Badge variant={badge.variant}>{badge.label}</Badge>
      </Td>
      <Td className="text-right">
        {live && (
          <ConfirmDialog
            trigger={
              <Button variant="ghost-destructive" size="sm">
                Revoke
              </Button>
            }
            title={`Revoke “${apiKey.name}”?`}
            description="Anything still using this key starts getting 401 errors right away. This cannot be undone."
            confirmLabel="Revoke"
            onConfirm={() => revoke.mutateAsync(apiKey.id).then(() => toast.success(`${apiKey.name} revoked`))}
          />
        )}
      </Td>
    </Tr>
  );
}
