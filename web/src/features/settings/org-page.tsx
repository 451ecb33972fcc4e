"use client";

import * as React from "react";
import { toast } from "sonner";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { CopyButton } from "@/components/ui/copy-button";
import { LoadError } from "@/components/ui/empty-state";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { ApiError, errorMessage } from "@/lib/api/errors";
import { useCan } from "@/lib/auth/session";
import { formatDateTime } from "@/lib/utils";

import { SectionGate, SectionHeader } from "./components/section";
import { type Org, useOrg, useUpdateOrg } from "./queries";

export function OrgSettingsPage() {
  return (
    <SectionGate id="org">
      <SectionHeader id="org" />
      <OrgDetails />
    </SectionGate>
  );
}

function OrgDetails() {
  const org = useOrg();
  if (org.isPending) {
    return (
      <Card className="p-5" aria-busy aria-label="Loading organization">
        <div className="grid gap-5">
          <Skeleton className="h-4 w-40" />
          <Skeleton className="h-9 w-full max-w-md" />
          <Skeleton className="h-9 w-full max-w-md" />
          <Skeleton className="h-5 w-24" />
        </div>
      </Card>
    );
  }
  if (org.isError) {
    return <LoadError what="the organization" error={org.error} onRetry={() => void org.refetch()} />;
  }
  return <OrgForm org={org.data} />;
}

function ReadOnlyRow({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid gap-1 sm:grid-cols-[10rem_1fr] sm:items-center">
      <dt className="text-sm font-medium">{label}</dt>
      <dd className="flex min-w-0 items-center gap-2 text-sm text-muted-foreground">{children}</dd>
    </div>
  );
}

function OrgForm({ org }: { org: Org }) {
  const canManage = useCan("org.manage");
  const update = useUpdateOrg();
  const [name, setName] = React.useState(org.name);
  const [savedName, setSavedName] = React.useState(org.name);
  if (org.name !== savedName) {
    // Someone (maybe us) saved a new name: show it unless the field is being edited.
    setSavedName(org.name);
    if (name === savedName) setName(org.name);
  }
  const dirty = name.trim() !== org.name;
  const fieldError =
    update.error instanceof ApiError ? (update.error.fieldErrors().name ?? errorMessage(update.error)) : null;

  return (
    <div className="grid gap-6">
      <Card>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (!name.trim()) return;
            update.mutate({ name: name.trim() }, { onSuccess: () => toast.success("Organization renamed") });
          }}
          noValidate
        >
          <CardHeader>
            <CardTitle>General</CardTitle>
            <CardDescription>
              {canManage ? "The name everyone in the organization sees." : "Only admins and owners can change these."}
            </CardDescription>
          </CardHeader>
          <CardContent className="grid gap-5">
            <Field
              id="org-name"
              label="Name"
              error={!name.trim() ? "The organization needs a name." : fieldError}
              className="max-w-md"
            >
              <Input
                id="org-name"
                value={name}
                maxLength={255}
                readOnly={!canManage}
                aria-invalid={!name.trim() || Boolean(fieldError) || undefined}
                onChange={(event) => {
                  setName(event.target.value);
                  if (update.error) update.reset();
                }}
              />
            </Field>
            <dl className="grid gap-4 border-t pt-5">
              <ReadOnlyRow label="Slug">
                <code className="truncate rounded bg-muted px-1.5 py-0.5 font-mono text-xs text-foreground">
                  {org.slug}
                </code>
                <CopyButton value={org.slug} label="Copy" size="sm" variant="ghost" aria-label="Copy slug" />
              </ReadOnlyRow>
              <ReadOnlyRow label="Plan">
                <Badge variant="default" className="capitalize" data-testid="org-plan">
                  {org.plan}
                </Badge>
              </ReadOnlyRow>
              <ReadOnlyRow label="Organization ID">
                <code className="truncate font-mono text-xs">{org.id}</code>
                <CopyButton value={org.id} label="Copy" size="sm" variant="ghost" aria-label="Copy organization ID" />
              </ReadOnlyRow>
              <ReadOnlyRow label="Created">{formatDateTime(org.created_at)}</ReadOnlyRow>
            </dl>
          </CardContent>
          {canManage && (
            <CardFooter className="justify-end gap-2 border-t pt-5">
              <Button
                type="button"
                variant="ghost"
                disabled={!dirty || update.isPending}
                onClick={() => setName(org.name)}
              >
                Discard
              </Button>
              <Button type="submit" disabled={!dirty || !name.trim()} loading={update.isPending}>
                Save changes
              </Button>
            </CardFooter>
          )}
        </form>
      </Card>
    </div>
  );
}
