"use client";

import { ApiKeysPage } from "@/features/settings/api-keys-page";

export default function Page() {
  return <ApiKeysPage />;
}
