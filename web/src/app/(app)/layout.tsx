"use client";

import { Suspense } from "react";

import { AppShell } from "@/components/shell/app-shell";
import { FullPageSpinner } from "@/components/shell/full-page-spinner";
import { RequireSession } from "@/components/shell/require-session";

export default function SignedInLayout({ children }: { children: React.ReactNode }) {
  // Suspense: pages read search params (?id=…), which a static export resolves in the browser.
  return (
    <Suspense fallback={<FullPageSpinner />}>
      <RequireSession>
        <AppShell>{children}</AppShell>
      </RequireSession>
    </Suspense>
  );
}
