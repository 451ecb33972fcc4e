"use client";

import { Bot, ChevronRight, History, KeyRound, ScrollText, SearchX, User, X } from "lucide-react";
import Link from "next/link";
import * as React from "react";

import { Button } from "@/components/ui/button";
import { EmptyState, LoadError } from "@/components/ui/empty-state";
import { Input, NativeSelect } from "@/components/ui/input";
import { JsonView } from "@/components/ui/json-view";
import { Skeleton } from "@/components/ui/skeleton";
import { TBody, THead, Table, Td, Th, Tr } from "@/components/ui/table";
import { FilterField } from "@/components/ui/filter-field";

import { useCan } from "@/lib/auth/session";
import { cn, formatDateTime } from "@/lib/utils";
import { since, useNow } from "@/lib/use-now";
import { useUrlFilters } from "@/lib/use-url-filters";

import {
  KNOWN_ACTIONS,
  RESOURCE_TYPES,
  activeAuditFilters,
  auditFiltersToSearch,
  parseAuditFilters,
} from "./audit-filters";
import { SectionGate, SectionHeader } from "./components/section";
import { type AuditEntry, type Member, flattenPages, useApiKeys, useAuditLog, useMemberDirectory } from "./queries";

export function AuditLogPage() {
  return (
    <SectionGate id="audit">
      <SectionHeader id="audit" />
      <AuditLog />
    </SectionGate>
  );
}

function AuditLog() {
  const { filters, update } = useUrlFilters(parseAuditFilters, auditFiltersToSearch);
  const now = useNow();
  const canSeeKeys = useCan("api_keys.manage");

  // The action box applies on Enter or when it loses focus, not on every key.
  const [action, setAction] = React.useState(filters.action ?? "");
  const [seenAction, setSeenAction] = React.useState(filters.action);
  if (filters.action !== seenAction) {
    setSeenAction(filters.action);
    setAction(filters.action ?? "");
  }
  const applyAction = () => {
    const next = action.trim() || undefined;
    if (next !== filters.action) update({ action: next });
  };

  const members = useMemberDirectory();
  const keys = useApiKeys(canSeeKeys); // names of keys in the actor column
  const keyNames = React.useMemo(() => new Map(flattenPages(keys.data).map((key) => [key.id, key.name])), [keys.data]);
  const people = React.useMemo(() => new Map((members.data ?? []).map((m) => [m.user_id, m])), [members.data]);
  const log = useAuditLog(filters);
  const entries = flattenPages(log.data);
  const filtered = activeAuditFilters(filters) > 0;

  return (
    <>
      <div className="mb-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-3" role="search" aria-label="Filter the audit log">
        <FilterField id="audit-action" label="Action">
          <Input
            id="audit-action"
            list="audit-actions"
            value={action}
            maxLength={100}
            placeholder="e.g. member. or agent.created"
            onChange={(event) => setAction(event.target.value)}
            onBlur={applyAction}
            onKeyDown={(event) => {
              if (event.key === "Enter") {
                event.preventDefault();
                applyAction();
              }
            }}
          />
          <datalist id="audit-actions">
            {KNOWN_ACTIONS.map((known) => (
              <option key={known} value={known} />
            ))}
          </datalist>
        </FilterField>
        <FilterField id="audit-actor" label="Actor">
          <NativeSelect
            id="audit-actor"
            value={filters.actor ?? ""}
            onChange={(event) => update({ actor: event.target.value || undefined })}
          >
            <option value="">Anyone</option>
            {filters.actor && !people.has(filters.actor) && <option value={filters.actor}>Selected user</option>}
            {members.data?.map((member) => (
              <option key={member.user_id} value={member.user_id}>
                {member.name || member.email}
              </option>
            ))}
          </NativeSelect>
        </FilterField>
        <FilterField id="audit-resource" label="Resource">
          <NativeSelect
            id="audit-resource"
            value={filters.resource ?? ""}
            // One resource's id means nothing under another type.
            onChange={(event) => update({ resource: event.target.value || undefined, id: undefined })}
          >
            <option value="">Any resource</option>
            {filters.resource && !(filters.resource in RESOURCE_TYPES) && (
              <option value={filters.resource}>{filters.resource}</option>
            )}
            {Object.entries(RESOURCE_TYPES).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </NativeSelect>
        </FilterField>
        <FilterField id="audit-from" label="From">
          <Input
            id="audit-from"
            type="date"
            value={filters.from ?? ""}
            max={filters.to}
            onChange={(event) => update({ from: event.target.value || undefined })}
          />
        </FilterField>
        <FilterField id="audit-to" label="To">
          <Input
            id="audit-to"
            type="date"
            value={filters.to ?? ""}
            min={filters.from}
            onChange={(event) => update({ to: event.target.value || undefined })}
          />
        </FilterField>
        <div className="flex items-end">
          {filtered && (
            <Button
              variant="ghost"
              onClick={() => {
                setAction("");
                update(null);
              }}
            >
              <X aria-hidden />
              Clear filters
            </Button>
          )}
        </div>
      </div>

      {filters.id && (
        <div className="mb-4 flex flex-wrap items-center gap-2 text-sm" data-testid="audit-resource-filter">
          <History className="size-4 text-muted-foreground" aria-hidden />
          <span>
            The history of{" "}
            {filters.resource ? (RESOURCE_TYPES[filters.resource] ?? filters.resource).toLowerCase() : "resource"}{" "}
            <code className="font-mono text-xs" title={filters.id}>
              {shortId(filters.id)}
            </code>
          </span>
          <Button variant="ghost" size="sm" onClick={() => update({ id: undefined })}>
            <X aria-hidden />
            Every {filters.resource ? (RESOURCE_TYPES[filters.resource] ?? filters.resource).toLowerCase() : "resource"}
          </Button>
        </div>
      )}

      {log.isPending ? (
        <AuditSkeleton />
      ) : log.isError && entries.length === 0 ? (
        <LoadError what="the audit log" error={log.error} onRetry={() => void log.refetch()} />
      ) : entries.length === 0 ? (
        filtered ? (
          <EmptyState
            icon={SearchX}
            title="Nothing matches these filters"
            description="Try a broader action (like “agent.”), another person or a wider date range."
            action={
              <Button
                variant="outline"
                onClick={() => {
                  setAction("");
                  update(null);
                }}
              >
                Show everything
              </Button>
            }
          />
        ) : (
          <EmptyState
            icon={ScrollText}
            title="No activity yet"
            description="Changes made in this organization show up here."
          />
        )
      ) : (
        <div className={cn("grid gap-3 transition-opacity", log.isPlaceholderData && "opacity-60")}>
          <Table aria-label="Audit log">
            <AuditHead />
            <TBody>
              {entries.map((entry) => (
                <AuditRow
                  key={entry.id}
                  entry={entry}
                  now={now}
                  onShowHistory={
                    entry.resource_type && entry.resource_id && entry.resource_id !== filters.id
                      ? () => update({ resource: entry.resource_type ?? undefined, id: entry.resource_id ?? undefined })
                      : undefined
                  }
                  person={entry.user_id ? people.get(entry.user_id) : undefined}
                  keyName={entry.api_key_id ? keyNames.get(entry.api_key_id) : undefined}
                />
              ))}
            </TBody>
          </Table>
          <div className="flex min-h-9 items-center justify-between text-sm text-muted-foreground">
            <span aria-live="polite">
              {entries.length} {entries.length === 1 ? "event" : "events"}
              {log.hasNextPage ? " shown" : ""}
            </span>
            {log.hasNextPage && (
              <Button variant="outline" onClick={() => void log.fetchNextPage()} loading={log.isFetchingNextPage}>
                Load more
              </Button>
            )}
          </div>
        </div>
      )}
    </>
  );
}

function AuditHead() {
  return (
    <THead>
      <tr>
        <Th className="w-10">
          <span className="sr-only">Details</span>
        </Th>
        <Th>Time</Th>
        <Th>Actor</Th>
        <Th>Action</Th>
        <Th>Resource</Th>
        <Th>IP</Th>
      </tr>
    </THead>
  );
}

function AuditSkeleton() {
  return (
    <Table aria-busy aria-label="Loading the audit log">
      <AuditHead />
      <TBody>
        {Array.from({ length: 8 }, (_, index) => (
          <Tr key={index}>
            <Td>
              <Skeleton className="size-5" />
            </Td>
            <Td>
              <Skeleton className="h-4 w-28" />
            </Td>
            <Td>
              <Skeleton className="h-4 w-32" />
            </Td>
            <Td>
              <Skeleton className="h-5 w-32" />
            </Td>
            <Td>
              <Skeleton className="h-4 w-28" />
            </Td>
            <Td>
              <Skeleton className="h-4 w-20" />
            </Td>
          </Tr>
        ))}
      </TBody>
    </Table>
  );
}

function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

function resourceHref(type: string | null, id: string | null): string | null {
  if (!id) return null;
  if (type === "agent") return `/agents/builder/?id=${encodeURIComponent(id)}`;
  if (type === "execution") return `/executions/detail/?id=${encodeURIComponent(id)}`;
  return null;
}

function Actor({ entry, person, keyName }: { entry: AuditEntry; person?: Member; keyName?: string }) {
  if (entry.actor_type === "api_key") {
    return (
      <span className="inline-flex items-center gap-1.5">
        <KeyRound className="size-3.5 text-muted-foreground" aria-hidden />
        {keyName ? `API key “${keyName}”` : "API key"}
      </span>
    );
  }
  if (entry.actor_type === "user" && entry.user_id) {
    return (
      <span className="inline-flex min-w-0 items-center gap-1.5" title={person?.email ?? entry.user_id}>
        <User className="size-3.5 shrink-0 text-muted-foreground" aria-hidden />
        <span className="truncate">
          {person ? person.name || person.email : `Former member ${shortId(entry.user_id)}`}
        </span>
      </span>
    );
  }
  return (
    <span className="inline-flex items-center gap-1.5 text-muted-foreground">
      <Bot className="size-3.5" aria-hidden />
      System
    </span>
  );
}

function AuditRow({
  entry,
  now,
  person,
  keyName,
  onShowHistory,
}: {
  entry: AuditEntry;
  now: number;
  /** Narrow the log to this entry's resource. */
  onShowHistory?: () => void;
  person?: Member;
  keyName?: string;
}) {
  const [open, setOpen] = React.useState(false);
  const detailsId = `audit-details-${entry.id}`;
  const href = resourceHref(entry.resource_type, entry.resource_id);
  const resourceLabel = entry.resource_type ? (RESOURCE_TYPES[entry.resource_type] ?? entry.resource_type) : null;

  return (
    <>
      <Tr data-testid={`audit-${entry.id}`} className={cn(open && "border-b-0 bg-muted/30")}>
        <Td className="pr-0">
          <Button
            variant="ghost"
            size="icon-sm"
            aria-expanded={open}
            aria-controls={detailsId}
            aria-label={open ? "Hide details" : "Show details"}
            onClick={() => setOpen(!open)}
          >
            <ChevronRight className={cn("transition-transform", open && "rotate-90")} aria-hidden />
          </Button>
        </Td>
        <Td className="whitespace-nowrap" title={formatDateTime(entry.created_at)}>
          <span className="block">{since(entry.created_at, now)}</span>
          <span className="block text-xs text-muted-foreground">
            {new Date(entry.created_at).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" })}
          </span>
        </Td>
        <Td className="max-w-48">
          <Actor entry={entry} person={person} keyName={keyName} />
        </Td>
        <Td>
          <code className="rounded-md bg-muted px-1.5 py-0.5 font-mono text-xs whitespace-nowrap">{entry.action}</code>
        </Td>
        <Td className="text-sm">
          {resourceLabel ? (
            <span className="grid">
              <span className="whitespace-nowrap">{resourceLabel}</span>
              {entry.resource_id &&
                (href ? (
                  <Link
                    href={href}
                    className="font-mono text-xs text-primary hover:underline"
                    title={entry.resource_id}
                  >
                    {shortId(entry.resource_id)}
                  </Link>
                ) : (
                  <code className="font-mono text-xs text-muted-foreground" title={entry.resource_id}>
                    {shortId(entry.resource_id)}
                  </code>
                ))}
            </span>
          ) : (
            <span className="text-muted-foreground">—</span>
          )}
        </Td>
        <Td className="font-mono text-xs whitespace-nowrap text-muted-foreground">{entry.ip_address ?? "—"}</Td>
      </Tr>
      {open && (
        <tr id={detailsId} className="border-b bg-muted/30">
          <td colSpan={6} className="px-4 pt-1 pb-4">
            <div className="grid gap-3 pl-10 lg:grid-cols-[1fr_18rem]">
              <JsonView value={entry.details} defaultDepth={3} className="self-start bg-background" />
              <dl className="grid content-start gap-2 text-xs">
                {[
                  ["When", formatDateTime(entry.created_at)],
                  ["Resource ID", entry.resource_id],
                  ["Request ID", entry.request_id],
                  ["User agent", entry.user_agent],
                ].map(([label, value]) => (
                  <div key={label} className="grid gap-0.5">
                    <dt className="text-muted-foreground">{label}</dt>
                    <dd className="font-mono break-all">{value || "—"}</dd>
                  </div>
                ))}
                {onShowHistory && (
                  <Button variant="outline" size="sm" className="justify-self-start" onClick={onShowHistory}>
                    <History aria-hidden />
                    Everything about this {resourceLabel?.toLowerCase() ?? "resource"}
                  </Button>
                )}
              </dl>
            </div>
          </td>
        </tr>
      )}
    </>
  );
}
