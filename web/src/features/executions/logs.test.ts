import { describe, expect, it } from "vitest";

import { filterLogs, levelRank } from "./logs";

const logs = [
  { id: 1, level: "debug" },
  { id: 2, level: "info" },
  { id: 3, level: "warning" },
  { id: 4, level: "error" },
  { id: 5, level: "WARN" },
];

describe("log level filter", () => {
  it("keeps everything without a minimum", () => {
    expect(filterLogs(logs, null)).toHaveLength(5);
  });

  it("keeps a level and everything more severe", () => {
    expect(filterLogs(logs, "warning").map((log) => log.id)).toEqual([3, 4, 5]);
    expect(filterLogs(logs, "error").map((log) => log.id)).toEqual([4]);
    expect(filterLogs(logs, "info").map((log) => log.id)).toEqual([2, 3, 4, 5]);
  });

  it("ranks unknown levels as info", () => {
    expect(levelRank("notice")).toBe(levelRank("info"));
    expect(levelRank("something")).toBe(levelRank("info"));
  });
});
