"use client";

import { useRouter, useSearchParams } from "next/navigation";
import * as React from "react";

import { FormError, useSubmit } from "@/components/shell/auth-form";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { api, unwrap } from "@/lib/api/client";
import { startSession } from "@/lib/auth/session";

/** The link in an invitation email: `/accept-invite/?token=…`. A new user picks a name and
 *  password; someone with an account gives its password (or is already signed in as the invited
 *  email, in which case the client sends the access token). */
export default function AcceptInvitePage() {
  const router = useRouter();
  const token = useSearchParams().get("token") ?? "";
  const [name, setName] = React.useState("");
  const [password, setPassword] = React.useState("");

  const { pending, error, fields, submit } = useSubmit(async () => {
    const issued = await unwrap(
      api.POST("/api/v1/auth/accept-invite", { body: { token, name: name || null, password: password || null } }),
    );
    await startSession(issued, true);
    router.replace("/agents/");
  });

  if (!token) {
    return <FormError message="This invitation link is incomplete. Open the link from your email again." />;
  }
  return (
    <form onSubmit={submit} className="grid gap-4" noValidate>
      <div className="grid gap-1">
        <h1 className="text-xl font-semibold">Join your team</h1>
        <p className="text-sm text-muted-foreground">
          New to AgentFlow? Choose your name and a password. Already have an account? Enter its password.
        </p>
      </div>
      <FormError message={error} />
      <Field id="name" label="Your name" error={fields.name}>
        <Input id="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field id="password" label="Password" hint="At least 8 characters." error={fields.password}>
        <Input
          id="password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </Field>
      <Button type="submit" loading={pending} className="w-full">
        Accept invitation
      </Button>
    </form>
  );
}
