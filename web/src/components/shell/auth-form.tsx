"use client";

import * as React from "react";

import { ApiError, errorMessage } from "@/lib/api/errors";

/** Submit state of an auth form: the API's message on failure, field errors of a 422. */
export function useSubmit<T>(action: () => Promise<T>) {
  const [pending, setPending] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const [fields, setFields] = React.useState<Record<string, string>>({});

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    setFields({});
    try {
      await action();
    } catch (caught) {
      setError(errorMessage(caught));
      if (caught instanceof ApiError) setFields(caught.fieldErrors());
    } finally {
      setPending(false);
    }
  }
  return { pending, error, fields, submit };
}

export function FormError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p
      role="alert"
      className="rounded-md border border-destructive/30 bg-destructive/10 px-3 py-2 text-sm text-destructive"
    >
      {message}
    </p>
  );
}
