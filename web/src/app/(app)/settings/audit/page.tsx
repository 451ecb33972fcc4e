"use client";

import { AuditLogPage } from "@/features/settings/audit-page";

export default function Page() {
  return <AuditLogPage />;
}
