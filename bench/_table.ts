/**
 * Table output shared by the benchmarks, so every bench prints the same way.
 *
 * @module
 */

/** One row: column name to value. Numbers are printed with thousands separators. */
export type Row = Record<string, string | number>;

function cell(value: string | number): string {
  if (typeof value === "string") return value;
  if (!Number.isFinite(value)) return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Prints a titled table to stdout with aligned columns. */
export function printTable(title: string, rows: Row[]): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((r) => columns.map((c) => (r[c] === undefined ? "" : cell(r[c]!))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    "| " + values.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(
      " | ",
    ) + " |";
  const out = [
    `\n### ${title}\n`,
    line(columns),
    "|" + widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") +
    "|",
    ...cells.map(line),
    "",
  ];
  console.log(out.join("\n"));
}

/** Percentile of sorted numbers (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Median of numbers (the upper one of an even count). */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * The first round, the median and the best of rates measured round by
 * round (higher is better): what a user's first run, a typical run and a
 * lucky run see.
 */
export function firstMedianBest(rates: number[]): { first: number; median: number; best: number } {
  return { first: rates[0] ?? NaN, median: median(rates), best: Math.max(...rates) };
}
