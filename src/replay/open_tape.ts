/**
 * Finds the tape a program was pointed at: a path to a `.jsonl` or
 * `.meta.json` file, or a tape id looked up in the tapes directory.
 *
 * @module
 */

import { TapeDirectory, type TapeReader, type TapeReadOptions } from "../tape/mod.ts";

/**
 * Default directory where tape ids are looked up.
 *
 * @example
 * ```ts
 * import { DEFAULT_TAPES_DIR } from "./open_tape.ts";
 * console.log(DEFAULT_TAPES_DIR); // "./tapes"
 * ```
 */
export const DEFAULT_TAPES_DIR = "./tapes";

/**
 * Resolves `idOrPath` to the `.jsonl` path of a tape.
 *
 * @example
 * ```ts ignore
 * import { resolveTapePath } from "./open_tape.ts";
 * console.log(await resolveTapePath("20261122T031500Z-1a2b3c4d", "./tapes"));
 * ```
 */
export function resolveTapePath(idOrPath: string, tapesDir = DEFAULT_TAPES_DIR): Promise<string> {
  return new TapeDirectory(tapesDir).resolve(idOrPath);
}

/**
 * Opens a tape for reading by path or id; errors name the tape.
 *
 * @example
 * ```ts ignore
 * import { openTape } from "./open_tape.ts";
 * using reader = await openTape("tapes/x.jsonl");
 * console.log(reader.init.tape_id);
 * ```
 */
export function openTape(
  idOrPath: string,
  tapesDir = DEFAULT_TAPES_DIR,
  options: TapeReadOptions = {},
): Promise<TapeReader> {
  return new TapeDirectory(tapesDir).open(idOrPath, options);
}
