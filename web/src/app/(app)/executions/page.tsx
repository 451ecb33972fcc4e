"use client";

import { ExecutionsListPage } from "@/features/executions/executions-list-page";

export default function Page() {
  return <ExecutionsListPage />;
}
