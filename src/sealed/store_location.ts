/**
 * Where a sealed store lives: a directory holding `stream.sealed`
 * (`sealed:DIR`), or a stream in a SQLite database (`sqlite:FILE#stream`).
 * Parsed from a location's text, or recognised on disk by the store's own
 * first bytes, so `sealed:` is optional on input.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { RUN_MAGIC } from "./sealed_format.ts";

/**
 * A sealed store's location: a file store's directory, or a SQLite file and
 * the stream in it (`undefined`: the default stream for a writer, the only
 * stream for a reader).
 */
export type SealedLocation =
  | { kind: "file"; dir: string }
  | { kind: "sqlite"; file: string; stream: string | undefined };

/**
 * The name of a file store's units file inside its directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { STORE_FILE } from "./store_location.ts";
 * assert.equal(STORE_FILE, "stream.sealed");
 * ```
 */
export const STORE_FILE = "stream.sealed";

/**
 * The name of a file store's lock file inside its directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LOCK_FILE } from "./store_location.ts";
 * assert.equal(LOCK_FILE, "writer.lock");
 * ```
 */
export const LOCK_FILE = "writer.lock";

/**
 * The stream a SQLite sink writes when its location names none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_STREAM } from "./store_location.ts";
 * assert.equal(DEFAULT_STREAM, "default");
 * ```
 */
export const DEFAULT_STREAM = "default";

/**
 * The table of a SQLite store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SQLITE_TABLE } from "./store_location.ts";
 * assert.equal(SQLITE_TABLE, "spool_sealed_units");
 * ```
 */
export const SQLITE_TABLE = "spool_sealed_units";

const SQLITE_MAGIC = new TextEncoder().encode("SQLite format 3\0");

/**
 * Parses `sealed:DIR`, `sqlite:FILE` or `sqlite:FILE#stream`; any other
 * text is not a sealed location and gives `undefined`. A `#` in a SQLite
 * location splits at the last one, so a stream name holds none.
 *
 * @throws {TypeError} when the text has the prefix but names no directory,
 *   file or stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSealedLocation } from "./store_location.ts";
 * assert.deepEqual(parseSealedLocation("sealed:/a/b"), { kind: "file", dir: "/a/b" });
 * assert.deepEqual(parseSealedLocation("sqlite:s.db#quotes"), { kind: "sqlite", file: "s.db", stream: "quotes" });
 * assert.deepEqual(parseSealedLocation("sqlite:s.db"), { kind: "sqlite", file: "s.db", stream: undefined });
 * assert.equal(parseSealedLocation("tapes/x.jsonl"), undefined);
 * assert.throws(() => parseSealedLocation("sqlite:s.db#"), TypeError);
 * ```
 */
export function parseSealedLocation(text: string): SealedLocation | undefined {
  if (text.startsWith("sealed:")) {
    const dir = text.slice("sealed:".length);
    if (dir === "") {
      throw new TypeError(`Location '${text}' names no directory: give 'sealed:DIR'`);
    }
    return { kind: "file", dir };
  }
  if (!text.startsWith("sqlite:")) return undefined;
  const rest = text.slice("sqlite:".length);
  const hash = rest.lastIndexOf("#");
  const file = hash < 0 ? rest : rest.slice(0, hash);
  const stream = hash < 0 ? undefined : rest.slice(hash + 1);
  if (file === "") {
    throw new TypeError(
      `Location '${text}' names no file: give 'sqlite:FILE' or 'sqlite:FILE#stream'`,
    );
  }
  if (stream === "") {
    throw new TypeError(`Location '${text}' names no stream after '#': give 'sqlite:FILE#stream'`);
  }
  return { kind: "sqlite", file, stream };
}

/**
 * The units file of the file store in `dir`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storeFilePath } from "./store_location.ts";
 * assert.equal(storeFilePath("/s"), "/s/stream.sealed");
 * assert.equal(storeFilePath("/s/"), "/s/stream.sealed");
 * ```
 */
export function storeFilePath(dir: string): string {
  return dir.endsWith("/") ? `${dir}${STORE_FILE}` : `${dir}/${STORE_FILE}`;
}

/**
 * How messages name a store: the units file of a file store
 * (`DIR/stream.sealed`), or `FILE#stream` (plain `FILE` when no stream is
 * named).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeLocation } from "./store_location.ts";
 * assert.equal(describeLocation({ kind: "file", dir: "/s" }), "/s/stream.sealed");
 * assert.equal(describeLocation({ kind: "sqlite", file: "a.db", stream: "q" }), "a.db#q");
 * assert.equal(describeLocation({ kind: "sqlite", file: "a.db", stream: undefined }), "a.db");
 * ```
 */
export function describeLocation(loc: SealedLocation): string {
  if (loc.kind === "file") return storeFilePath(loc.dir);
  return loc.stream === undefined ? loc.file : `${loc.file}#${loc.stream}`;
}

/**
 * Recognises a sealed store on disk by its first bytes: a directory
 * holding a `stream.sealed` that starts with the run magic (or is empty,
 * a store no run was written to yet), such a `stream.sealed` named
 * directly, or a SQLite database holding the `spool_sealed_units` table
 * (`FILE#stream` names a stream in it). Anything else, or nothing at
 * `path`, gives `undefined`.
 *
 * @throws {Deno.errors.PermissionDenied} and other I/O errors than a missing path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RUN_MAGIC } from "./sealed_format.ts";
 * import { detectSealedStore } from "./store_location.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(await detectSealedStore(dir), undefined);
 * Deno.writeFileSync(`${dir}/stream.sealed`, RUN_MAGIC);
 * assert.deepEqual(await detectSealedStore(dir), { kind: "file", dir });
 * assert.deepEqual(await detectSealedStore(`${dir}/stream.sealed`), { kind: "file", dir });
 * assert.equal(await detectSealedStore(`${dir}/missing`), undefined);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function detectSealedStore(path: string): Promise<SealedLocation | undefined> {
  const info = await statOrUndefined(path);
  if (info === undefined) {
    // `FILE#stream` names a stream of a SQLite store without the prefix.
    const hash = path.lastIndexOf("#");
    if (hash <= 0 || hash === path.length - 1) return undefined;
    const file = path.slice(0, hash);
    const fileInfo = await statOrUndefined(file);
    if (!fileInfo?.isFile || !(await isSqliteStore(file))) return undefined;
    return { kind: "sqlite", file, stream: path.slice(hash + 1) };
  }
  if (info.isDirectory) {
    const units = storeFilePath(path);
    const unitsInfo = await statOrUndefined(units);
    return unitsInfo?.isFile && await startsAsStore(units)
      ? { kind: "file", dir: path }
      : undefined;
  }
  if (!info.isFile) return undefined;
  if (basename(path) === STORE_FILE && await startsAsStore(path)) {
    return { kind: "file", dir: dirname(path) };
  }
  if (await isSqliteStore(path)) return { kind: "sqlite", file: path, stream: undefined };
  return undefined;
}

async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw error;
  }
}

async function firstBytes(path: string, count: number): Promise<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  const bytes = new Uint8Array(count);
  let got = 0;
  while (got < count) {
    const n = await file.read(bytes.subarray(got));
    if (n === null) break;
    got += n;
  }
  return bytes.subarray(0, got);
}

// Empty, or a prefix of the run magic: a store whose first run header is
// still being written (or was torn) is a store too.
async function startsAsStore(path: string): Promise<boolean> {
  const bytes = await firstBytes(path, RUN_MAGIC.length);
  return bytes.every((b, i) => b === RUN_MAGIC[i]);
}

async function isSqliteStore(path: string): Promise<boolean> {
  const bytes = await firstBytes(path, SQLITE_MAGIC.length);
  if (bytes.length < SQLITE_MAGIC.length || !bytes.every((b, i) => b === SQLITE_MAGIC[i])) {
    return false;
  }
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(SQLITE_TABLE) !== undefined;
  } catch {
    // A database this code cannot read (damaged, encrypted, another
    // program's) is not a sealed store.
    return false;
  } finally {
    db?.close();
  }
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}
