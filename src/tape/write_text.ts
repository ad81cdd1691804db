/**
 * Text written whole to a file a program does not own, such as stderr.
 *
 * @module
 */

/** What {@linkcode writeTextSync} writes to: `Deno.stderr`, `Deno.stdout` or a file. */
export interface SyncWriter {
  /** Writes some of `p`, returning how many bytes it took. */
  writeSync(p: Uint8Array): number;
}

/**
 * Writes all of `text`, looping over short writes, before returning, so a
 * program's lines never interleave with each other or lose a tail. A
 * failed write (stderr closed, gone with its terminal) is ignored: there is
 * nowhere left to tell.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeTextSync } from "./write_text.ts";
 * const chunks: string[] = [];
 * // A writer that takes at most four bytes a call, as a pipe may.
 * const pipe = { writeSync: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p.subarray(0, 4))), Math.min(4, p.length)) };
 * writeTextSync("record: 3 frames\n", pipe);
 * assert.equal(chunks.join(""), "record: 3 frames\n");
 * ```
 */
export function writeTextSync(text: string, file: SyncWriter = Deno.stderr): void {
  const bytes = new TextEncoder().encode(text);
  try {
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
  } catch {
    // Nowhere left to tell.
  }
}
