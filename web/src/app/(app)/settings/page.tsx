"use client";

import { OrgSettingsPage } from "@/features/settings/org-page";

export default function Page() {
  return <OrgSettingsPage />;
}
