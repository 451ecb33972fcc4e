"use client";

import { MailCheck } from "lucide-react";
import * as React from "react";

import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
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

import { inviteLinkFor } from "../invite-link";
import { type Invitation, useInvite, useOutbox } from "../queries";
import { ROLE_DESCRIPTIONS, ROLE_LABELS, type Role, assignableRoles } from "../roles";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Invite by email with a role; afterwards, the link itself when mail stays in the local outbox. */
export function InviteMemberDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const myRole = useSession((state) => state.me?.role);
  const invite = useInvite();
  const [email, setEmail] = React.useState("");
  const [role, setRole] = React.useState<Role>("editor");
  const [touched, setTouched] = React.useState(false);
  const [sent, setSent] = React.useState<Invitation | null>(null);
  const outbox = useOutbox(open && sent !== null);
  const link = sent ? inviteLinkFor(sent, outbox.data) : null;

  const fields = invite.error instanceof ApiError ? invite.error.fieldErrors() : {};
  const emailInvalid = touched && !EMAIL.test(email.trim());
  const emailError = emailInvalid ? "Enter an email address." : (fields.email ?? null);
  const general = invite.error && !fields.email ? errorMessage(invite.error) : null;

  function reset() {
    setEmail("");
    setRole("editor");
    setTouched(false);
    setSent(null);
    invite.reset();
  }

  function submit(event: React.FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (!EMAIL.test(email.trim())) return;
    invite.mutate({ email: email.trim(), role }, { onSuccess: (invitation) => setSent(invitation) });
  }

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        if (!next && invite.isPending) return;
        if (!next) reset();
        onOpenChange(next);
      }}
    >
      <DialogContent>
        {sent ? (
          <>
            <DialogHeader>
              <DialogTitle>Invitation sent</DialogTitle>
              <DialogDescription>
                {sent.email} can join as {ROLE_LABELS[sent.role].toLowerCase()} with the link in their email. It works
                once and expires {new Date(sent.expires_at).toLocaleDateString(undefined, { dateStyle: "medium" })}.
              </DialogDescription>
            </DialogHeader>
            {link ? (
              <div className="grid min-w-0 gap-2 rounded-lg border bg-muted/30 p-3">
                <p className="text-sm">
                  No mail server is set up here, so the email stays in the local outbox. Share this link yourself:
                </p>
                <div className="flex min-w-0 items-center gap-2">
                  <code
                    className="min-w-0 flex-1 truncate rounded-md border bg-background px-2 py-1.5 font-mono text-xs"
                    data-testid="invite-link"
                    title={link}
                  >
                    {link}
                  </code>
                  <CopyButton value={link} label="Copy link" />
                </div>
              </div>
            ) : (
              <div className="flex items-center gap-3 rounded-lg border bg-muted/30 p-3 text-sm text-muted-foreground">
                <MailCheck className="size-5 shrink-0 text-success" aria-hidden />
                Ask them to check their inbox (and spam folder).
              </div>
            )}
            <DialogFooter>
              <Button variant="outline" onClick={reset}>
                Invite someone else
              </Button>
              <DialogClose asChild>
                <Button>Done</Button>
              </DialogClose>
            </DialogFooter>
          </>
        ) : (
          <form onSubmit={submit} className="grid gap-5" noValidate>
            <DialogHeader>
              <DialogTitle>Invite a member</DialogTitle>
              <DialogDescription>They get an email with a link to join this organization.</DialogDescription>
            </DialogHeader>
            <Field id="invite-email" label="Email" error={emailError}>
              <Input
                id="invite-email"
                type="email"
                value={email}
                autoFocus
                autoComplete="off"
                maxLength={255}
                placeholder="name@company.com"
                aria-invalid={Boolean(emailError) || undefined}
                onChange={(event) => {
                  setEmail(event.target.value);
                  if (invite.error) invite.reset();
                }}
                onBlur={() => email && setTouched(true)}
              />
            </Field>
            <Field id="invite-role" label="Role" hint={ROLE_DESCRIPTIONS[role]}>
              <NativeSelect
                id="invite-role"
                value={role}
                aria-describedby="invite-role-hint"
                onChange={(event) => setRole(event.target.value as Role)}
              >
                {assignableRoles(myRole).map((option) => (
                  <option key={option} value={option}>
                    {ROLE_LABELS[option]}
                  </option>
                ))}
              </NativeSelect>
            </Field>
            {general && <FormError>{general}</FormError>}
            <FormDialogFooter pending={invite.isPending}>Send invite</FormDialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}
