/**
 * The `<tape_id>.meta.json` companion of a tape: where it lives, reading it
 * with clear errors, and replacing it atomically so a reader never sees a
 * half-written file.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { ioReason, isDiskFull } from "./io_reason.ts";
import { TAPE_FILE_MODE } from "./tape_permissions.ts";
import type { TapeMeta } from "./types.ts";

const TAPE_STATUSES = new Set(["recording", "paused", "finalized", "error"]);

/**
 * Path of the meta file of a tape: `<dir>/<id>.meta.json` for
 * `<dir>/<id>.jsonl`. A path without the `.jsonl` extension gets
 * `.meta.json` appended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { metaPathFor } from "./meta_file.ts";
 * assert.equal(
 *   metaPathFor("tapes/20261122T031500Z-1a2b3c4d.jsonl"),
 *   "tapes/20261122T031500Z-1a2b3c4d.meta.json",
 * );
 * ```
 */
export function metaPathFor(jsonlPath: string): string {
  const stem = jsonlPath.endsWith(".jsonl") ? jsonlPath.slice(0, -".jsonl".length) : jsonlPath;
  return `${stem}.meta.json`;
}

/**
 * Reads and checks a meta file. Rejects with a `TypeError` when the file
 * cannot be read (missing, a directory, permission denied) and a
 * `SyntaxError` when it is not a tape's meta file; both name the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readMeta } from "./meta_file.ts";
 * await assert.rejects(readMeta("no-such-tape.meta.json"), {
 *   message: "Cannot read tape meta 'no-such-tape.meta.json': no such file or directory",
 * });
 * ```
 */
export async function readMeta(metaPath: string): Promise<TapeMeta> {
  let text: string;
  try {
    text = await Deno.readTextFile(metaPath);
  } catch (error) {
    throw new TypeError(`Cannot read tape meta '${metaPath}': ${ioReason(error)}`, {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`Tape meta '${metaPath}' is not valid JSON`, { cause: error });
  }
  const problem = metaProblem(value);
  if (problem !== undefined) {
    throw new SyntaxError(`Tape meta '${metaPath}' is not a tape meta file: ${problem}`);
  }
  return value as TapeMeta;
}

/**
 * Replaces a meta file atomically: the JSON goes to a hidden temporary file
 * in the same directory (`.<name>.<random>.tmp`), is flushed to disk, and is
 * renamed over the old file. A reader sees the old or the new contents,
 * never a mix, even if the writer is killed half way. On failure the
 * temporary file is removed, the old meta file is left as it was, and the
 * file system's error is passed on.
 *
 * The temporary file, and so the meta file, gets the permission bits of
 * the meta file it replaces, or 0600 ({@linkcode TAPE_FILE_MODE}) when
 * there is none: a new meta file is its owner's only, and rewriting one
 * never changes who may read it (the umask may take bits away).
 *
 * On a full disk, where the temporary file has no room, the old file is
 * overwritten in place instead: its blocks are already allocated, so a
 * tape that filled the disk can still be marked `error`. The new contents
 * are padded with spaces to at least the old length, so the file is never
 * truncated and a reader sees valid JSON unless the writer dies mid-write.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeMetaAtomic, readMeta } from "./meta_file.ts";
 * import type { TapeMeta } from "./types.ts";
 * const dir = await Deno.makeTempDir();
 * const counts = { request: 0, notification: 0, response: 0, error: 0, message: 0, text: 0 };
 * const meta: TapeMeta = {
 *   tape_id: "t1", name: "t1", description: "", tags: [],
 *   created_at: new Date().toISOString(), updated_at: new Date().toISOString(),
 *   finalized_at: null, status: "recording", transport: "stdio", protocol_version: null,
 *   environment: {},
 *   stats: { frame_count: 0, duration_ms: 0, bytes: 0, last_seq: 0, message_counts: counts,
 *     errors: 0, correlations: 0, checkpoints: 0 },
 *   performance: { durability: "flush", writes: 0, syncs: 0, max_batch: 0 },
 * };
 * await writeMetaAtomic(`${dir}/t1.meta.json`, meta);
 * assert.equal((await readMeta(`${dir}/t1.meta.json`)).status, "recording");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeMetaAtomic(metaPath: string, meta: TapeMeta): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(meta, null, 2) + "\n");
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16).padStart(8, "0");
  const temp = join(dirname(metaPath), `.${basename(metaPath)}.${random}.tmp`);
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(temp, { write: true, createNew: true, mode: await metaMode(metaPath) });
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    // Without this a power cut after the rename could leave an empty meta file.
    await file.syncData();
    file.close();
    file = undefined;
    await Deno.rename(temp, metaPath);
  } catch (error) {
    try {
      file?.close();
    } catch { /* already closed */ }
    await Deno.remove(temp).catch(() => {});
    if (isDiskFull(error) && await overwriteInPlace(metaPath, meta).catch(() => false)) return;
    throw error;
  }
}

// The permission bits of the meta file there, kept by its replacement.
async function metaMode(metaPath: string): Promise<number> {
  try {
    return ((await Deno.stat(metaPath)).mode ?? TAPE_FILE_MODE) & 0o777;
  } catch {
    return TAPE_FILE_MODE;
  }
}

/** Writes over the meta file's existing blocks; false when there is no file to overwrite. */
async function overwriteInPlace(metaPath: string, meta: TapeMeta): Promise<boolean> {
  const json = JSON.stringify(meta, null, 2);
  const file = await Deno.open(metaPath, { read: true, write: true });
  try {
    const { size } = await file.stat();
    if (size === 0) return false;
    // Trailing spaces are JSON whitespace: the old, longer contents never show past the new end.
    const padding = " ".repeat(Math.max(0, size - json.length - 1));
    const bytes = new TextEncoder().encode(`${json}${padding}\n`);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.syncData();
    return true;
  } finally {
    file.close();
  }
}

/**
 * Whether a file name (not a path) is one of the temporary files of
 * {@linkcode writeMetaAtomic}, which directory listings must skip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isMetaTempFile } from "./meta_file.ts";
 * assert.equal(isMetaTempFile(".t1.meta.json.0a1b2c3d.tmp"), true);
 * assert.equal(isMetaTempFile("t1.meta.json"), false);
 * ```
 */
export function isMetaTempFile(name: string): boolean {
  return /^\..+\.meta\.json\.[0-9a-f]{8}\.tmp$/.test(name);
}

function metaProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return "not a JSON object";
  }
  const meta = value as Record<string, unknown>;
  for (const key of ["tape_id", "name", "created_at", "updated_at", "transport"]) {
    if (typeof meta[key] !== "string") return `field '${key}' is not a string`;
  }
  if (typeof meta.status !== "string" || !TAPE_STATUSES.has(meta.status)) {
    return `field 'status' is not one of recording, paused, finalized, error`;
  }
  if (meta.stats === null || typeof meta.stats !== "object") return "field 'stats' is missing";
  const stats = meta.stats as Record<string, unknown>;
  for (const key of ["frame_count", "last_seq", "bytes"]) {
    if (typeof stats[key] !== "number") return `field 'stats.${key}' is not a number`;
  }
  return undefined;
}
