"use client";

import { MailPlus, UserPlus, Users } from "lucide-react";
import * as React from "react";
import { toast } from "sonner";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm";
import { CopyButton } from "@/components/ui/copy-button";
import { EmptyState, LoadError } from "@/components/ui/empty-state";
import { NativeSelect } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { TBody, THead, Table, Td, Th, Tr } from "@/components/ui/table";
import { errorMessage } from "@/lib/api/errors";
import { useCan, useSession } from "@/lib/auth/session";
import { cn, formatDateTime, timeAgo } from "@/lib/utils";
import { useNow } from "@/lib/use-now";

import { InviteMemberDialog } from "./components/invite-member-dialog";
import { SectionGate, SectionHeader } from "./components/section";
import { inviteLinkFor } from "./invite-link";
import {
  type Invitation,
  type Member,
  flattenPages,
  useChangeRole,
  useInvitations,
  useMembers,
  useOutbox,
  useRemoveMember,
  useRevokeInvitation,
} from "./queries";
import { ROLE_LABELS, type Role, assignableRoles } from "./roles";

export function MembersPage() {
  const canManage = useCan("members.manage");
  const [inviting, setInviting] = React.useState(false);
  return (
    <SectionGate id="members">
      <SectionHeader
        id="members"
        actions={
          canManage && (
            <Button onClick={() => setInviting(true)}>
              <UserPlus aria-hidden />
              Invite member
            </Button>
          )
        }
      />
      <div className="grid gap-10">
        <MembersList />
        {canManage && <PendingInvitations />}
      </div>
      {canManage && <InviteMemberDialog open={inviting} onOpenChange={setInviting} />}
    </SectionGate>
  );
}

function initials(member: Pick<Member, "name" | "email">): string {
  const source = member.name?.trim() || member.email;
  const parts = source.split(/[\s@._-]+/).filter(Boolean);
  return ((parts[0]?.[0] ?? "") + (member.name ? (parts[1]?.[0] ?? "") : "")).toUpperCase() || "?";
}

function TableSkeleton({ columns, rows = 3 }: { columns: string[]; rows?: number }) {
  return (
    <Table aria-busy aria-label="Loading">
      <THead>
        <tr>
          {columns.map((column) => (
            <Th key={column}>{column}</Th>
          ))}
        </tr>
      </THead>
      <TBody>
        {Array.from({ length: rows }, (_, index) => (
          <Tr key={index}>
            {columns.map((column, cell) => (
              <Td key={column}>
                <Skeleton className={cell === 0 ? "h-8 w-56" : "h-4 w-20"} />
              </Td>
            ))}
          </Tr>
        ))}
      </TBody>
    </Table>
  );
}

function MembersList() {
  const members = useMembers();
  const canManage = useCan("members.manage");
  const me = useSession((state) => state.me);
  const items = flattenPages(members.data);
  const columns = ["Member", "Role", "Joined", ""];

  if (members.isPending) return <TableSkeleton columns={columns} />;
  if (members.isError) {
    return <LoadError what="members" error={members.error} onRetry={() => void members.refetch()} />;
  }
  if (items.length === 0) return <EmptyState icon={Users} title="No members" />;

  return (
    <div className="grid gap-3">
      <Table aria-label="Members">
        <THead>
          <tr>
            <Th>Member</Th>
            <Th className="w-44">Role</Th>
            <Th className="w-36">Joined</Th>
            <Th className="w-28">
              <span className="sr-only">Actions</span>
            </Th>
          </tr>
        </THead>
        <TBody>
          {items.map((member) => (
            <MemberRow
              key={member.id}
              member={member}
              isMe={member.user_id === me?.user?.id}
              myRole={me?.role}
              canManage={canManage}
            />
          ))}
        </TBody>
      </Table>
      {members.hasNextPage && (
        <div className="flex justify-center">
          <Button variant="outline" onClick={() => void members.fetchNextPage()} loading={members.isFetchingNextPage}>
            Load more
          </Button>
        </div>
      )}
    </div>
  );
}

function MemberRow({
  member,
  isMe,
  myRole,
  canManage,
}: {
  member: Member;
  isMe: boolean;
  myRole: string | null | undefined;
  canManage: boolean;
}) {
  const changeRole = useChangeRole();
  const remove = useRemoveMember();
  const shownRole = changeRole.isPending && changeRole.variables ? changeRole.variables.role : member.role;
  const display = member.name?.trim() || member.email;

  return (
    <Tr data-testid={`member-${member.email}`}>
      <Td>
        <div className="flex items-center gap-3">
          <span
            className="flex size-8 shrink-0 items-center justify-center rounded-full bg-primary/12 text-xs font-semibold text-primary"
            aria-hidden
          >
            {initials(member)}
          </span>
          <div className="min-w-0">
            <p className="flex items-center gap-2 truncate font-medium">
              {display}
              {isMe && <Badge variant="secondary">You</Badge>}
            </p>
            {member.name && <p className="truncate text-xs text-muted-foreground">{member.email}</p>}
          </div>
        </div>
      </Td>
      <Td>
        {canManage ? (
          <NativeSelect
            aria-label={`Role for ${member.email}`}
            value={shownRole}
            disabled={changeRole.isPending}
            className="h-8 w-36"
            onChange={(event) => {
              const role = event.target.value as Role;
              changeRole.mutate(
                { member, role },
                { onSuccess: () => toast.success(`${display} is now ${ROLE_LABELS[role].toLowerCase()}`) },
              );
            }}
          >
            {assignableRoles(myRole, member.role).map((role) => (
              <option key={role} value={role}>
                {ROLE_LABELS[role]}
              </option>
            ))}
          </NativeSelect>
        ) : (
          <Badge variant={member.role === "owner" ? "default" : "secondary"} data-testid="member-role">
            {ROLE_LABELS[member.role]}
          </Badge>
        )}
      </Td>
      <Td className="whitespace-nowrap text-muted-foreground" title={formatDateTime(member.joined_at)}>
        {new Date(member.joined_at).toLocaleDateString(undefined, { dateStyle: "medium" })}
      </Td>
      <Td className="text-right">
        {canManage && !isMe && (
          <ConfirmDialog
            trigger={
              <Button variant="ghost-destructive" size="sm">
                Remove
              </Button>
            }
            title={`Remove ${display}?`}
            description={`${member.email} loses access to this organization right away. You can invite them again later.`}
            confirmLabel="Remove"
            onConfirm={() => remove.mutateAsync(member).then(() => toast.success(`${display} removed`))}
          />
        )}
      </Td>
    </Tr>
  );
}

const INVITATION_STATUS: Record<string, { label: string; variant: "warning" | "success" | "outline" | "secondary" }> = {
  pending: { label: "Pending", variant: "warning" },
  accepted: { label: "Accepted", variant: "success" },
  revoked: { label: "Revoked", variant: "outline" },
  expired: { label: "Expired", variant: "secondary" },
};

function PendingInvitations() {
  const invitations = useInvitations(true);
  const outbox = useOutbox(true);
  const revoke = useRevokeInvitation();
  const now = useNow();
  const [showAll, setShowAll] = React.useState(false);
  const all = flattenPages(invitations.data);
  const pending = all.filter((invitation) => invitation.status === "pending");
  const shown = showAll ? all : pending;

  return (
    <section className="grid gap-3" aria-labelledby="invitations-title">
      <div className="flex items-center justify-between gap-2">
        <h3 id="invitations-title" className="font-semibold">
          Invitations
          {pending.length > 0 && (
            <span className="ml-2 text-sm font-normal text-muted-foreground">{pending.length} pending</span>
          )}
        </h3>
        {all.length > pending.length && (
          <Button variant="ghost" size="sm" onClick={() => setShowAll(!showAll)}>
            {showAll ? "Only pending" : `Show all (${all.length})`}
          </Button>
        )}
      </div>
      {invitations.isPending ? (
        <TableSkeleton columns={["Email", "Role", "Status", "Expires", ""]} rows={2} />
      ) : invitations.isError ? (
        <p role="alert" className="text-sm text-destructive">
          {errorMessage(invitations.error)}
        </p>
      ) : shown.length === 0 ? (
        <EmptyState
          icon={MailPlus}
          title="No pending invitations"
          description="Invite teammates by email; their invitations wait here until they join."
          className="py-10"
        />
      ) : (
        <Table aria-label="Invitations">
          <THead>
            <tr>
              <Th>Email</Th>
              <Th className="w-28">Role</Th>
              <Th className="w-28">Status</Th>
              <Th className="w-36">Expires</Th>
              <Th className="w-48">
                <span className="sr-only">Actions</span>
              </Th>
            </tr>
          </THead>
          <TBody>
            {shown.map((invitation) => (
              <InvitationRow
                key={invitation.id}
                invitation={invitation}
                link={invitation.status === "pending" ? inviteLinkFor(invitation, outbox.data) : null}
                now={now}
                onRevoke={() =>
                  revoke.mutateAsync(invitation).then(() => toast.success(`Invitation for ${invitation.email} revoked`))
                }
              />
            ))}
          </TBody>
        </Table>
      )}
    </section>
  );
}

function InvitationRow({
  invitation,
  link,
  now,
  onRevoke,
}: {
  invitation: Invitation;
  link: string | null;
  now: number;
  onRevoke: () => Promise<unknown>;
}) {
  const status = INVITATION_STATUS[invitation.status] ?? { label: invitation.status, variant: "outline" as const };
  const live = invitation.status === "pending";
  return (
    <Tr data-testid={`invitation-${invitation.email}`} className={cn(!live && "text-muted-foreground")}>
      <Td className="font-medium">{invitation.email}</Td>
      <Td>{ROLE_LABELS[invitation.role]}</Td>
      <Td>
        <Badge variant={status.variant}>{status.label}</Badge>
      </Td>
      <Td className="whitespace-nowrap text-muted-foreground" title={formatDateTime(invitation.expires_at)}>
        {live ? timeAgo(invitation.expires_at, now) : "—"}
      </Td>
      <Td>
        {live && (
          <div className="flex justify-end gap-1">
            {link && (
              <CopyButton
                value={link}
                label="Copy link"
                variant="ghost"
                aria-label={`Copy invite link for ${invitation.email}`}
              />
            )}
            <ConfirmDialog
              trigger={
                <Button variant="ghost-destructive" size="sm">
                  Revoke
                </Button>
              }
              title={`Revoke the invitation for ${invitation.email}?`}
              description="The link in their email stops working. You can invite them again later."
              confirmLabel="Revoke"
              onConfirm={onRevoke}
            />
          </div>
        )}
      </Td>
    </Tr>
  );
}
