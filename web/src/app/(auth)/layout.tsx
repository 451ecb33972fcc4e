import { Suspense } from "react";

import { FullPageSpinner } from "@/components/shell/full-page-spinner";
import { Logo } from "@/components/shell/logo";

export default function AuthLayout({ children }: { children: React.ReactNode }) {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center bg-muted/40 px-4 py-12">
      <Logo className="mb-8 text-lg" />
      <div className="w-full max-w-sm rounded-xl border bg-card p-7 shadow-sm">
        <Suspense fallback={<FullPageSpinner />}>{children}</Suspense>
      </div>
    </main>
  );
}
