"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import * as React from "react";

import { restoreSession, useSession } from "@/lib/auth/session";

import { FullPageSpinner } from "./full-page-spinner";

/** Renders its children for a signed-in user; sends anyone else to the login page and back. */
export function RequireSession({ children }: { children: React.ReactNode }) {
  const status = useSession((state) => state.status);
  const router = useRouter();
  const pathname = usePathname();
  const search = useSearchParams();

  React.useEffect(() => {
    if (status === "loading") void restoreSession();
  }, [status]);

  React.useEffect(() => {
    if (status !== "signed-out") return;
    const query = search.toString();
    const next = pathname + (query ? `?${query}` : "");
    router.replace(`/login/?next=${encodeURIComponent(next)}`);
  }, [status, pathname, search, router]);

  if (status !== "signed-in") return <FullPageSpinner />;
  return <>{children}</>;
}

/** Only same-site paths are followed after login (no open redirect through `?next=`). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/agents/";
  return next;
}
