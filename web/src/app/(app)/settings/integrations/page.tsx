"use client";

import { IntegrationsPage } from "@/features/settings/integrations-page";

export default function Page() {
  return <IntegrationsPage />;
}
