"use client";

import { MembersPage } from "@/features/settings/members-page";

export default function Page() {
  return <MembersPage />;
}
