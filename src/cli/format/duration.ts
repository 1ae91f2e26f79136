/** How durations read in every human format: short, with a unit, about three significant digits. */

/** 2_100 ns -> '2.1µs', 210_000 -> '0.21ms', 12_345_678 -> '12.3ms', 3_200_000_000 -> '3.2s'. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns) || ns < 0) return '?';
  if (ns < 1_000) return `${Math.round(ns)}ns`;
  if (ns < 100_000) return `${trim(ns / 1_000)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  return formatMs(ns / 1e6);
}

/** 950 -> '950ms', 3_210 -> '3.2s', 5_000 -> '5s', 90_000 -> '1m30s', 5_400_000 -> '1h30m'. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1_000).toFixed(1))}s`;
  const totalSeconds = Math.round(ms / 1_000);
  if (totalSeconds < 3_600) return joinUnits(Math.floor(totalSeconds / 60), 'm', totalSeconds % 60, 's');
  const totalMinutes = Math.round(totalSeconds / 60);
  return joinUnits(Math.floor(totalMinutes / 60), 'h', totalMinutes % 60, 'm');
}

function joinUnits(big: number, bigUnit: string, small: number, smallUnit: string): string {
  return small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`;
}

/** Three significant digits at most, no trailing zeros: 0.2100 -> '0.21', 12.345 -> '12.3', 123.4 -> '123'. */
function trim(value: number): string {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return String(Number(value.toFixed(digits)));
}
