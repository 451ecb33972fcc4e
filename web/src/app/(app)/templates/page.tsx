"use client";

import { TemplatesPage } from "@/features/templates/templates-page";

export default function Page() {
  return <TemplatesPage />;
}
