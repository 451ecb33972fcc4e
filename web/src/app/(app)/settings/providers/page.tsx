"use client";

import { ProvidersPage } from "@/features/settings/providers-page";

export default function Page() {
  return <ProvidersPage />;
}
