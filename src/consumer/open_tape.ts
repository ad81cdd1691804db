/**
 * Finds the tape a program was pointed at: a path to a `.jsonl` or
 * `.meta.json` file, or a tape id looked up in the tapes directory.
 *
 * @module
 */

import {
  DEFAULT_TAPES_DIR,
  TapeDirectory,
  type TapeReader,
  type TapeReadOptions,
} from "../tape/mod.ts";

/**
 * Opens a tape for reading by path or id; errors name the tape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { openTape } from "./open_tape.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.finalize();
 * {
 *   using reader = await openTape(writer.tapeId, dir);
 *   assert.equal(reader.init.tape_id, writer.tapeId);
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openTape(
  idOrPath: string,
  tapesDir = DEFAULT_TAPES_DIR,
  options: TapeReadOptions = {},
): Promise<TapeReader> {
  return new TapeDirectory(tapesDir).open(idOrPath, options);
}
