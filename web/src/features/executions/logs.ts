/** Log levels, least to most severe; the filter shows a level and everything more severe. */
export const LOG_LEVELS = ["info", "warning", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_LEVEL_LABELS: Record<LogLevel, string> = {
  info: "Info and up",
  warning: "Warnings and errors",
  error: "Errors only",
};

const RANK: Record<string, number> = {
  trace: 0,
  debug: 0,
  info: 1,
  notice: 1,
  warn: 2,
  warning: 2,
  error: 3,
  critical: 4,
  fatal: 4,
};

export function levelRank(level: string): number {
  return RANK[level.toLowerCase()] ?? 1;
}

/** The lines at `minimum` or more severe; all of them without a minimum. */
export function filterLogs<T extends { level: string }>(logs: readonly T[], minimum: LogLevel | null): T[] {
  if (!minimum) return [...logs];
  const floor = levelRank(minimum);
  return logs.filter((log) => levelRank(log.level) >= floor);
}
