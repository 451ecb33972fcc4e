"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import * as React from "react";

/**
 * A list page's filters, kept in its query string so a filtered view can be bookmarked, shared and
 * reached with back/forward. `update(patch)` merges into the filters the URL holds right now (not
 * a stale render's copy, so two quick changes both land); `update(null)` clears them all.
 */
export function useUrlFilters<F extends object>(
  parse: (params: Pick<URLSearchParams, "get">) => F,
  toSearch: (filters: F) => string,
): { filters: F; update: (patch: Partial<F> | null) => void } {
  const router = useRouter();
  const pathname = usePathname();
  const search = useSearchParams().toString();
  const filters = React.useMemo(() => parse(new URLSearchParams(search)), [parse, search]);
  const update = React.useCallback(
    (patch: Partial<F> | null) => {
      const current = parse(new URLSearchParams(window.location.search));
      const query = patch === null ? "" : toSearch({ ...current, ...patch });
      router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
    },
    [parse, toSearch, router, pathname],
  );
  return { filters, update };
}
