"use client";

import { Building2, Cpu, KeyRound, Plug, ScrollText, Users } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import * as React from "react";

import { PageContainer } from "@/components/shell/app-shell";
import { PageHeader } from "@/components/ui/page-header";
import { useSession } from "@/lib/auth/session";
import { cn } from "@/lib/utils";

import { type SectionId, sectionForPath, visibleSections } from "../sections";

const ICONS: Record<SectionId, typeof Users> = {
  org: Building2,
  members: Users,
  "api-keys": KeyRound,
  integrations: Plug,
  providers: Cpu,
  audit: ScrollText,
};

/** Settings' frame: the sections this role may see on the left, the section on the right. */
export function SettingsShell({ children }: { children: React.ReactNode }) {
  const pathname = usePathname();
  const permissions = useSession((state) => state.me?.permissions);
  const sections = visibleSections(permissions);
  const current = sectionForPath(pathname);

  return (
    <PageContainer>
      <PageHeader title="Settings" description="Your organization, its people, keys, integrations and providers." />
      <div className="flex flex-col gap-6 xl:flex-row xl:gap-8">
        <nav aria-label="Settings" className="shrink-0 xl:w-52">
          <ul className="-mx-1 flex gap-1 overflow-x-auto px-1 xl:sticky xl:top-8 xl:mx-0 xl:flex-col xl:px-0">
            {sections.map((section) => {
              const Icon = ICONS[section.id];
              const active = current?.id === section.id;
              return (
                <li key={section.id}>
                  <Link
                    href={section.href}
                    aria-current={active ? "page" : undefined}
                    className={cn(
                      "flex items-center gap-2.5 rounded-md px-2.5 py-2 text-sm font-medium whitespace-nowrap text-muted-foreground transition-colors hover:bg-accent hover:text-accent-foreground focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none",
                      active && "bg-accent text-accent-foreground",
                    )}
                  >
                    <Icon className="size-4" aria-hidden />
                    {section.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="min-w-0 flex-1">{children}</div>
      </div>
    </PageContainer>
  );
}
