"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Bot,
  Building2,
  Check,
  ChevronsUpDown,
  Hand,
  History,
  LayoutTemplate,
  LogOut,
  Monitor,
  Moon,
  Settings,
  Sun,
} from "lucide-react";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import * as React from "react";
import { toast } from "sonner";

import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { Tooltip } from "@/components/ui/tooltip";
import { api, unwrap } from "@/lib/api/client";
import { errorMessage } from "@/lib/api/errors";
import { endSession, startSession, useSession } from "@/lib/auth/session";
import { useTheme } from "@/lib/theme/theme";
import { cn } from "@/lib/utils";

import { Logo } from "./logo";

const NAV = [
  { href: "/agents/", label: "Agents", icon: Bot },
  { href: "/executions/", label: "Executions", icon: History },
  { href: "/approvals/", label: "Approvals", icon: Hand },
  { href: "/templates/", label: "Templates", icon: LayoutTemplate },
  { href: "/settings/", label: "Settings", icon: Settings },
] as const;

export function AppShell({ children }: { children: React.ReactNode }) {
  const pathname = usePathname();
  const approvals = useQuery({
    queryKey: ["executions", "pending-approvals", "count"],
    queryFn: () => unwrap(api.GET("/api/v1/executions/pending-approvals", { params: { query: { limit: 100 } } })),
    refetchInterval: 30_000,
    meta: { silent: true },
  });
  const waiting = approvals.data?.items.length ?? 0;
  // The builder needs the width for its canvas: the navigation shrinks to a rail of icons there
  // (names stay as accessible labels and tooltips).
  const compact = pathname.startsWith("/agents/builder");

  return (
    <div className="flex min-h-screen">
      <aside
        className={cn(
          "sticky top-0 flex h-screen shrink-0 flex-col border-r bg-card/50",
          compact ? "w-14 items-center" : "w-60",
        )}
      >
        <div className={cn("flex h-14 items-center", compact ? "justify-center" : "px-4")}>
          <Link href="/agents/" aria-label="AgentFlow home">
            <Logo compact={compact} />
          </Link>
        </div>
        {!compact && (
          <div className="px-3 pb-2">
            <OrgSwitcher />
          </div>
        )}
        <nav className={cn("flex flex-1 flex-col gap-0.5 py-2", compact ? "px-2" : "px-3")} aria-label="Main">
          {NAV.map(({ href, label, icon: Icon }) => {
            const active = pathname.startsWith(href);
            const link = (
              <Link
                key={href}
                href={href}
                aria-current={active ? "page" : undefined}
                className={cn(
                  "relative flex items-center gap-2.5 rounded-md py-2 text-sm font-medium text-muted-foreground transition-colors hover:bg-accent hover:text-accent-foreground",
                  compact ? "justify-center px-2" : "px-2.5",
                  active && "bg-accent text-accent-foreground",
                )}
              >
                <Icon className="size-4" aria-hidden />
                <span className={compact ? "sr-only" : undefined}>{label}</span>
                {href === "/approvals/" && waiting > 0 && (
                  <span
                    className={cn(
                      "rounded-full bg-warning/25 text-xs font-semibold text-amber-700 dark:text-warning",
                      compact ? "absolute -top-0.5 -right-0.5 min-w-4 px-1 text-center text-[10px]" : "ml-auto px-1.5",
                    )}
                    aria-label={`${waiting} waiting`}
                  >
                    {waiting}
                  </span>
                )}
              </Link>
            );
            return compact ? (
              <Tooltip key={href} content={label}>
                {link}
              </Tooltip>
            ) : (
              link
            );
          })}
        </nav>
        <div className={cn("border-t", compact ? "py-3" : "p-3")}>
          <UserMenu compact={compact} />
        </div>
      </aside>
      <main className="min-w-0 flex-1">{children}</main>
    </div>
  );
}

/** A page's content column; the builder opts out and takes the whole main area. */
export function PageContainer({ children, className }: { children: React.ReactNode; className?: string }) {
  return <div className={cn("mx-auto w-full max-w-6xl px-8 py-8", className)}>{children}</div>;
}

function OrgSwitcher() {
  const me = useSession((state) => state.me);
  const queryClient = useQueryClient();
  const router = useRouter();
  const [switching, setSwitching] = React.useState(false);
  if (!me?.org) return null;

  async function switchTo(orgId: string) {
    setSwitching(true);
    try {
      const issued = await unwrap(api.POST("/api/v1/auth/switch-org", { body: { org_id: orgId } }));
      await startSession(issued, true);
      queryClient.clear(); // nothing of the previous org may linger on screen
      router.push("/agents/");
    } catch (error) {
      toast.error(errorMessage(error));
    } finally {
      setSwitching(false);
    }
  }

  return (
    <DropdownMenu>
      <DropdownMenuTrigger
        className="flex w-full items-center gap-2 rounded-lg border bg-background px-2.5 py-2 text-left text-sm shadow-xs hover:bg-accent focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none"
        aria-label="Switch organization"
        disabled={switching}
      >
        <Building2 className="size-4 text-muted-foreground" aria-hidden />
        <span className="min-w-0 flex-1">
          <span className="block truncate font-medium" data-testid="current-org">
            {me.org.name}
          </span>
          <span className="block text-xs text-muted-foreground capitalize">{me.role}</span>
        </span>
        <ChevronsUpDown className="size-4 text-muted-foreground" aria-hidden />
      </DropdownMenuTrigger>
      <DropdownMenuContent align="start" className="w-56">
        <DropdownMenuLabel>Organizations</DropdownMenuLabel>
        {me.orgs.map((org) => (
          <DropdownMenuItem key={org.id} onSelect={() => org.id !== me.org?.id && void switchTo(org.id)}>
            <span className="min-w-0 flex-1 truncate">{org.name}</span>
            <span className="text-xs text-muted-foreground capitalize">{org.role}</span>
            {org.id === me.org?.id && <Check aria-label="current" />}
          </DropdownMenuItem>
        ))}
      </DropdownMenuContent>
    </DropdownMenu>
  );
}

function UserMenu({ compact }: { compact: boolean }) {
  const me = useSession((state) => state.me);
  const { choice, setChoice } = useTheme();
  const queryClient = useQueryClient();
  const router = useRouter();
  const name = me?.user?.name || me?.user?.email || "";
  return (
    <DropdownMenu>
      <DropdownMenuTrigger
        className={cn(
          "flex items-center gap-2 rounded-md py-1.5 text-left text-sm hover:bg-accent focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none",
          compact ? "justify-center px-1.5" : "w-full px-2",
        )}
        aria-label="Account menu"
      >
        <span className="flex size-7 items-center justify-center rounded-full bg-primary/15 text-xs font-semibold text-primary uppercase">
          {name.slice(0, 1)}
        </span>
        <span className={compact ? "sr-only" : "min-w-0 flex-1"}>
          <span className="block truncate font-medium">{me?.user?.name}</span>
          <span className="block truncate text-xs text-muted-foreground">{me?.user?.email}</span>
        </span>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="start" side="top" className="w-56">
        <DropdownMenuLabel>Theme</DropdownMenuLabel>
        {(
          [
            ["light", "Light", Sun],
            ["dark", "Dark", Moon],
            ["system", "System", Monitor],
          ] as const
        ).map(([value, label, Icon]) => (
          <DropdownMenuItem key={value} onSelect={() => setChoice(value)}>
            <Icon aria-hidden />
            {label}
            {choice === value && <Check className="ml-auto" aria-label="selected" />}
          </DropdownMenuItem>
        ))}
        <DropdownMenuSeparator />
        <DropdownMenuItem
          onSelect={async () => {
            await endSession();
            queryClient.clear();
            router.replace("/login/");
          }}
        >
          <LogOut aria-hidden />
          Sign out
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
