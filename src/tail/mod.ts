/**
 * Showing tapes: the last records of a tape in a readable or JSON form,
 * following it as it grows, and summarizing it.
 *
 * @example
 * ```ts ignore
 * import { tailTape } from "./mod.ts";
 * await tailTape({ tape: "tapes/x.jsonl", lines: 20, follow: true });
 * ```
 *
 * @module
 */

export { wantsColor } from "./color_choice.ts";
export { type EntryFormatOptions, EntryFormatter, type TimeMode } from "./entry_format.ts";
export { percentile } from "./percentile.ts";
export { RingBuffer } from "./ring_buffer.ts";
export { formatSummary, type SummaryFormatOptions } from "./summary_format.ts";
export type { TailEntry } from "./tail_entry.ts";
export { TailSelector, type TailSelectorOptions } from "./tail_selector.ts";
export { type StatsOptions, type TailOptions, tailTape, tapeStats } from "./tail_tape.ts";
export { type MethodSummary, TapeSummarizer, type TapeSummary } from "./tape_summary.ts";
