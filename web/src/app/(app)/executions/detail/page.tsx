"use client";

import { ExecutionDetailPage } from "@/features/executions/execution-detail-page";

export default function Page() {
  return <ExecutionDetailPage />;
}
