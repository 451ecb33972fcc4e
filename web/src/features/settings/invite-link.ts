/**
 * Invitation links. The API never returns an invitation's token; it emails a link. Without SMTP
 * (the embedded default) that mail lands in the org's local outbox (GET /org/outbox, admins
 * only), so the link can be read from there and handed over by hand. Pure.
 */

export interface OutboxMail {
  to: string;
  body: string;
  created_at: string;
}

export interface InvitationLike {
  email: string;
  created_at: string;
}

const LINK = /https?:\/\/\S+\/accept-invite\/?\?token=[A-Za-z0-9_-]+/;
/** The mail is written in the same transaction as the invitation: allow for clock and rounding. */
const SLACK_MS = 5_000;

export function extractInviteLink(body: string): string | null {
  return LINK.exec(body)?.[0] ?? null;
}

/** The link of this invitation: the first mail to its address sent when it was created or after. */
export function inviteLinkFor(invitation: InvitationLike, outbox: readonly OutboxMail[] | undefined): string | null {
  if (!outbox) return null;
  const email = invitation.email.toLowerCase();
  const since = new Date(invitation.created_at).getTime() - SLACK_MS;
  const mails = outbox
    .filter((mail) => mail.to.toLowerCase() === email && new Date(mail.created_at).getTime() >= since)
    .sort((a, b) => new Date(a.created_at).getTime() - new Date(b.created_at).getTime());
  for (const mail of mails) {
    const link = extractInviteLink(mail.body);
    if (link) return link;
  }
  return null;
}
