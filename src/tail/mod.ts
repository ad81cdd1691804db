/**
 * Showing tapes: the last records of a tape in a readable or JSON form,
 * following it as it grows, and summarizing it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { tailTape } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * await writer.finalize();
 * const chunks: string[] = [];
 * const out = {
 *   write: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), Promise.resolve(p.length)),
 * };
 * // Ends at once: the tape is finalized.
 * await tailTape({ tape: writer.path, lines: 20, follow: true, out });
 * const lines = chunks.join("").trimEnd().split("\n");
 * assert.equal(lines.length, 2);
 * assert.match(lines[0]!, /→ request +ping/);
 * assert.match(lines[1]!, /← response +ping/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export * from "./color_choice.ts";
export * from "./entry_format.ts";
export * from "./percentile.ts";
export * from "./ring_buffer.ts";
export * from "./summary_format.ts";
export * from "./tail_entry.ts";
export * from "./tail_selector.ts";
export * from "./tail_tape.ts";
export * from "./tail_stream.ts";
export * from "./tape_summary.ts";
export * from "./book_screen.ts";
