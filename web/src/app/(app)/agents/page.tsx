"use client";

import { AgentsListPage } from "@/features/agents/agents-list-page";

export default function Page() {
  return <AgentsListPage />;
}
