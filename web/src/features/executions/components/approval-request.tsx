import { Clock, Users } from "lucide-react";

import { Badge } from "@/components/ui/badge";
import { formatDateTime, timeAgo } from "@/lib/utils";

import { type ApprovalRequest, sinceText } from "../format";

/** The approval node's message and who may decide, with when it was asked and when it expires. */
export function ApprovalRequestView({
  request,
  requestedAt,
  now,
}: {
  request: ApprovalRequest;
  requestedAt: string | null;
  now?: number;
}) {
  return (
    <div className="grid gap-3">
      {request.message && (
        <blockquote
          className="rounded-lg border-l-4 border-warning bg-muted/40 px-4 py-3 text-sm leading-relaxed break-words whitespace-pre-wrap"
          data-testid="approval-message"
        >
          {request.message}
        </blockquote>
      )}
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2 text-xs text-muted-foreground">
        {request.approvers.length > 0 && (
          <span className="inline-flex flex-wrap items-center gap-1.5">
            <Users className="size-3.5" aria-hidden />
            <span>Approvers:</span>
            {request.approvers.map((approver) => (
              <Badge key={approver} variant="outline" className="font-normal capitalize">
                {approver.includes("@") ? <span className="normal-case">{approver}</span> : approver}
              </Badge>
            ))}
          </span>
        )}
        {requestedAt && (
          <span className="inline-flex items-center gap-1.5" title={formatDateTime(requestedAt)}>
            <Clock className="size-3.5" aria-hidden />
            Requested {sinceText(requestedAt, now)}
          </span>
        )}
        {request.expiresAt && (
          <span title={formatDateTime(request.expiresAt)}>Times out {timeAgo(request.expiresAt, now)}</span>
        )}
      </div>
    </div>
  );
}
