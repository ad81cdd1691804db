/**
 * Making a directory's entries durable: after a file is created or renamed
 * into place, the directory itself must reach the disk too, or a machine
 * crash can lose the name while the file's bytes survive.
 *
 * @module
 */

/**
 * Flushes `dir`'s entries to disk (`fsync` of the directory), best effort:
 * a platform or file system that cannot sync a directory is not an error,
 * and neither is a directory that is gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syncDirectory } from "./sync_directory.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.doesNotThrow(() => syncDirectory(dir));
 * assert.doesNotThrow(() => syncDirectory(`${dir}/missing`));
 * Deno.removeSync(dir);
 * ```
 */
export function syncDirectory(dir: string): void {
  let handle: Deno.FsFile;
  try {
    handle = Deno.openSync(dir, { read: true });
  } catch {
    return;
  }
  try {
    handle.syncSync();
  } catch {
    // Not every file system syncs directories.
  } finally {
    handle.close();
  }
}
