"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import * as React from "react";

import { FormError, useSubmit } from "@/components/shell/auth-form";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { api, unwrap } from "@/lib/api/client";
import { startSession } from "@/lib/auth/session";

export default function SignupPage() {
  const router = useRouter();
  const [form, setForm] = React.useState({ name: "", email: "", password: "", org_name: "" });
  const set = (key: keyof typeof form) => (event: React.ChangeEvent<HTMLInputElement>) =>
    setForm({ ...form, [key]: event.target.value });

  const { pending, error, fields, submit } = useSubmit(async () => {
    const issued = await unwrap(api.POST("/api/v1/auth/signup", { body: form }));
    await startSession(issued);
    router.replace("/agents/");
  });

  return (
    <form onSubmit={submit} className="grid gap-4" noValidate>
      <div className="grid gap-1">
        <h1 className="text-xl font-semibold">Create your account</h1>
        <p className="text-sm text-muted-foreground">You get an organization of your own; invite your team later.</p>
      </div>
      <FormError message={error} />
      <Field id="name" label="Your name" error={fields.name}>
        <Input id="name" autoComplete="name" required value={form.name} onChange={set("name")} autoFocus />
      </Field>
      <Field id="email" label="Work email" error={fields.email}>
        <Input id="email" type="email" autoComplete="email" required value={form.email} onChange={set("email")} />
      </Field>
      <Field id="password" label="Password" hint="At least 8 characters." error={fields.password}>
        <Input
          id="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          value={form.password}
          onChange={set("password")}
        />
      </Field>
      <Field id="org_name" label="Organization" error={fields.org_name}>
        <Input id="org_name" autoComplete="organization" required value={form.org_name} onChange={set("org_name")} />
      </Field>
      <Button type="submit" loading={pending} className="w-full">
        Create account
      </Button>
      <p className="text-center text-sm text-muted-foreground">
        Already have an account?{" "}
        <Link href="/login/" className="font-medium text-primary underline-offset-4 hover:underline">
          Sign in
        </Link>
      </p>
    </form>
  );
}
