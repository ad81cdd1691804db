/**
 * Permission bits of what the chronicle creates on disk: a queue's files
 * (and the snapshot files kept beside it) are readable by their group
 * and nobody else unless told otherwise, since they hold what
 * crossed the wire. The bits are asked of the kernel when a file or
 * directory is created; the process umask may take bits away, and
 * nothing existing is ever changed.
 *
 * @module
 */

import { META_FILE } from "./format.ts";

/**
 * Permission bits of a queue file created when no mode is given: the
 * owner reads and writes, the group reads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QUEUE_FILE_MODE } from "./file_mode.ts";
 * assert.equal(QUEUE_FILE_MODE, 0o640);
 * ```
 */
export const QUEUE_FILE_MODE = 0o640;

/**
 * Checks the permission bits asked for a queue's files: read and write
 * bits only (a queue's files are never run), the owner's read and write
 * among them.
 *
 * @throws {RangeError} for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFileMode } from "./file_mode.ts";
 * checkFileMode(0o660);
 * assert.throws(() => checkFileMode(0o440), /owner/);
 * ```
 */
export function checkFileMode(mode: number): void {
  const bits = Number.isSafeInteger(mode) && mode >= 0;
  const octal = bits ? `'0${mode.toString(8)}'` : `'${mode}'`;
  if (!bits || mode > 0o777) {
    throw new RangeError(
      `Mode ${octal} is not permission bits: give three octal digits, e.g. 0660`,
    );
  }
  if ((mode & 0o111) !== 0) {
    throw new RangeError(
      `Mode ${octal} has execute bits: give read and write bits only, e.g. 0660`,
    );
  }
  if ((mode & 0o600) !== 0o600) {
    throw new RangeError(`Mode ${octal} must let the owner read and write, e.g. 0600 or 0660`);
  }
}

/**
 * Parses permission bits written in octal (`0660`, `660` or `0o660`) and
 * checks them as {@linkcode checkFileMode} does.
 *
 * @throws {SyntaxError} when the text is not an octal number.
 * @throws {RangeError} when the bits are not a queue file's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFileMode } from "./file_mode.ts";
 * assert.equal(parseFileMode("0660"), 0o660);
 * assert.throws(() => parseFileMode("rw-rw----"), SyntaxError);
 * ```
 */
export function parseFileMode(text: string): number {
  const digits = /^(?:0o?)?([0-7]{1,4})$/.exec(text.trim())?.[1];
  if (digits === undefined) {
    throw new SyntaxError(`Mode '${text}' is not an octal number: give e.g. 0660`);
  }
  const mode = parseInt(digits, 8);
  checkFileMode(mode);
  return mode;
}

/**
 * The permission bits of a directory holding files of `fileMode`: an
 * execute (search) bit wherever there is a read bit, so 0640 gives 0750
 * and 0660 gives 0770.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directoryModeFor } from "./file_mode.ts";
 * assert.equal(directoryModeFor(0o640), 0o750);
 * assert.equal(directoryModeFor(0o660), 0o770);
 * assert.equal(directoryModeFor(0o600), 0o700);
 * ```
 */
export function directoryModeFor(fileMode: number): number {
  return fileMode | (fileMode & 0o444) >> 2;
}

/**
 * The permission bits new files of the queue in `dir` get when no mode is
 * given: those of its `queue.meta` (read and write bits only, the
 * owner's always), so files added later match the ones there;
 * {@linkcode QUEUE_FILE_MODE} when there is no queue yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queueFileMode } from "./file_mode.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(queueFileMode(dir), 0o640);
 * Deno.writeFileSync(`${dir}/queue.meta`, new Uint8Array(1), { mode: 0o600 });
 * Deno.chmodSync(`${dir}/queue.meta`, 0o660);
 * assert.equal(queueFileMode(dir), 0o660);
 * Deno.chmodSync(`${dir}/queue.meta`, 0o444);
 * assert.equal(queueFileMode(dir), 0o644);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function queueFileMode(dir: string): number {
  let mode: number | null;
  try {
    mode = Deno.statSync(`${dir}/${META_FILE}`).mode;
  } catch {
    return QUEUE_FILE_MODE;
  }
  return mode === null ? QUEUE_FILE_MODE : (mode & 0o666) | 0o600;
}
