import { act, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { useUrlFilters } from "./use-url-filters";

// Next's router stands in for the browser's address bar: `replace` moves it, as the real one does.
const replace = vi.fn((url: string) => window.history.replaceState(null, "", url));
vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace }),
  usePathname: () => "/executions/",
  useSearchParams: () => new URLSearchParams(window.location.search),
}));

interface Filters {
  status?: string;
  agent?: string;
}

const parse = (params: Pick<URLSearchParams, "get">): Filters => ({
  status: params.get("status") ?? undefined,
  agent: params.get("agent") ?? undefined,
});
const toSearch = (filters: Filters): string => {
  const params = new URLSearchParams();
  if (filters.status) params.set("status", filters.status);
  if (filters.agent) params.set("agent", filters.agent);
  return params.toString();
};

afterEach(() => {
  replace.mockClear();
  window.history.replaceState(null, "", "/");
});

describe("useUrlFilters", () => {
  it("reads the filters from the query string", () => {
    window.history.replaceState(null, "", "/executions/?status=failed&agent=a1");
    const { result } = renderHook(() => useUrlFilters(parse, toSearch));
    expect(result.current.filters).toEqual({ status: "failed", agent: "a1" });
  });

  it("merges each change into what the URL holds now, so quick successive changes both land", () => {
    window.history.replaceState(null, "", "/executions/?status=failed");
    const { result } = renderHook(() => useUrlFilters(parse, toSearch));
    const { update } = result.current; // the same render's function, used twice
    act(() => update({ agent: "a1" }));
    act(() => update({ status: "completed" }));
    expect(replace).toHaveBeenLastCalledWith("/executions/?status=completed&agent=a1", { scroll: false });
  });

  it("drops a filter set to undefined, and clears them all with null", () => {
    window.history.replaceState(null, "", "/executions/?status=failed&agent=a1");
    const { result } = renderHook(() => useUrlFilters(parse, toSearch));
    act(() => result.current.update({ status: undefined }));
    expect(replace).toHaveBeenLastCalledWith("/executions/?agent=a1", { scroll: false });
    act(() => result.current.update(null));
    expect(replace).toHaveBeenLastCalledWith("/executions/", { scroll: false });
  });
});
