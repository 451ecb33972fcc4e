/**
 * Calendar days as the date filters hold them (`YYYY-MM-DD`, from `<input type="date">` or a
 * shared link), and the instants the API filters on.
 */

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar day in `YYYY-MM-DD` form (not 2026-02-30). */
export function isDay(value: string): boolean {
  const match = DAY.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(year, month - 1, day);
  return date.getFullYear() === year && date.getMonth() === month - 1 && date.getDate() === day;
}

/** The viewer's local midnight starting `day` (plus `addDays`): a day filter means the viewer's day. */
export function localMidnight(day: string, addDays = 0): Date {
  const [year, month, date] = day.split("-").map(Number) as [number, number, number];
  return new Date(year, month - 1, date + addDays);
}
