"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

import { FullPageSpinner } from "@/components/shell/full-page-spinner";

/** `/` → the agents list (the app shell sends anyone signed out to the login page). */
export default function Home() {
  const router = useRouter();
  useEffect(() => router.replace("/agents/"), [router]);
  return <FullPageSpinner />;
}
