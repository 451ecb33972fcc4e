"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import * as React from "react";

import { FormError, useSubmit } from "@/components/shell/auth-form";
import { safeNext } from "@/components/shell/require-session";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { api, unwrap } from "@/lib/api/client";
import { restoreSession, startSession, useSession } from "@/lib/auth/session";

export default function LoginPage() {
  const router = useRouter();
  const next = safeNext(useSearchParams().get("next"));
  const status = useSession((state) => state.status);
  const [email, setEmail] = React.useState("");
  const [password, setPassword] = React.useState("");

  // Already signed in (a live refresh cookie): straight on.
  React.useEffect(() => {
    if (status === "loading") void restoreSession();
    if (status === "signed-in") router.replace(next);
  }, [status, next, router]);

  const { pending, error, submit } = useSubmit(async () => {
    const issued = await unwrap(api.POST("/api/v1/auth/login", { body: { email, password } }));
    await startSession(issued);
    router.replace(next);
  });

  return (
    <form onSubmit={submit} className="grid gap-4" noValidate>
      <div className="grid gap-1">
        <h1 className="text-xl font-semibold">Sign in</h1>
        <p className="text-sm text-muted-foreground">Welcome back. Sign in to your workspace.</p>
      </div>
      <FormError message={error} />
      <Field id="email" label="Email">
        <Input
          id="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          autoFocus
        />
      </Field>
      <Field id="password" label="Password">
        <Input
          id="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </Field>
      <Button type="submit" loading={pending} className="w-full">
        Sign in
      </Button>
      <p className="text-center text-sm text-muted-foreground">
        New to AgentFlow?{" "}
        <Link href="/signup/" className="font-medium text-primary underline-offset-4 hover:underline">
          Create an account
        </Link>
      </p>
    </form>
  );
}
