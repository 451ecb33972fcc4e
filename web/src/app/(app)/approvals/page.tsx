"use client";

import { ApprovalsPage } from "@/features/executions/approvals-page";

export default function Page() {
  return <ApprovalsPage />;
}
