"use client";

import { BuilderPage } from "@/features/builder/builder-page";

export default function Page() {
  return <BuilderPage />;
}
