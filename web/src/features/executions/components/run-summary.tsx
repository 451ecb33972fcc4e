import { CopyButton } from "@/components/ui/copy-button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { formatDateTime, timeAgo } from "@/lib/utils";

import { shortId } from "../format";
import type { Execution } from "../queries";
import { TriggerCell } from "./trigger-cell";

function Row({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <div className="flex items-baseline justify-between gap-4 py-2 text-sm">
      <dt className="shrink-0 text-muted-foreground">{term}</dt>
      <dd className="min-w-0 text-right">{children}</dd>
    </div>
  );
}

function When({ iso, now }: { iso: string | null; now: number }) {
  if (!iso) return <span className="text-muted-foreground">—</span>;
  return (
    <time dateTime={iso} title={timeAgo(iso, now)}>
      {formatDateTime(iso)}
    </time>
  );
}

/** The run's facts: ids, trigger, version and its timestamps. */
export function RunSummary({ execution, now }: { execution: Execution; now: number }) {
  return (
    <Card>
      <CardHeader className="pb-2">
        <CardTitle className="text-sm">Details</CardTitle>
      </CardHeader>
      <CardContent>
        <dl className="divide-y">
          <Row term="Execution">
            <span className="inline-flex items-center gap-2">
              <code className="font-mono text-xs" title={execution.id}>
                {shortId(execution.id)}
              </code>
              <CopyButton value={execution.id} label="Copy ID" size="sm" className="h-7 px-2" />
            </span>
          </Row>
          <Row term="Trigger">
            <TriggerCell triggeredBy={execution.triggered_by} isTest={execution.is_test} className="justify-end" />
          </Row>
          <Row term="Version">{execution.agent_version ? `v${execution.agent_version}` : "Draft"}</Row>
          <Row term="Created">
            <When iso={execution.created_at} now={now} />
          </Row>
          <Row term="Started">
            <When iso={execution.started_at} now={now} />
          </Row>
          <Row term="Finished">
            <When iso={execution.completed_at} now={now} />
          </Row>
          {execution.wake_at && (
            <Row term={execution.status === "parked" ? "Continues" : "Times out"}>
              <When iso={execution.wake_at} now={now} />
            </Row>
          )}
        </dl>
      </CardContent>
    </Card>
  );
}
