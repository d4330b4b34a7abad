import { weekdays, type MaintenanceWindow } from "../api/v1alpha1/index.ts";

/**
 * Whether a disruptive change may happen now: inside one of the venue's maintenance
 * windows, or at any time when it names none. Windows are UTC; one whose end is before
 * its start runs past midnight into the next day. Pure; the time is passed in.
 */
export function inMaintenanceWindow(windows: readonly MaintenanceWindow[] | undefined, now: Date): boolean {
  if (windows === undefined || windows.length === 0) return true;
  const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
  const today = weekdays[(now.getUTCDay() + 6) % 7]!;
  const yesterday = weekdays[(now.getUTCDay() + 5) % 7]!;
  return windows.some((w) => {
    const start = minutesOf(w.start);
    const end = minutesOf(w.end);
    const on = (day: (typeof weekdays)[number]) => w.days === undefined || w.days.includes(day);
    if (start < end) return on(today) && minute >= start && minute < end;
    // Past midnight: the evening part belongs to today, the morning part to the day before.
    return (on(today) && minute >= start) || (on(yesterday) && minute < end);
  });
}

function minutesOf(clock: string): number {
  const [h, m] = clock.split(":").map(Number);
  return h! * 60 + m!;
}
