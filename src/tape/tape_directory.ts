/**
 * A directory of tapes, as `record` leaves them: `<id>.jsonl` plus
 * `<id>.meta.json`. Lists them, finds one by id, name or path, and opens or
 * follows it, also while it is being recorded.
 *
 * @module
 */

import { basename, join } from "node:path";
import { ioReason } from "./io_reason.ts";
import { isMetaTempFile, readMeta } from "./meta_file.ts";
import { parseRecordLine, printWarning, type TapeWarning } from "./record_parser.ts";
import { type FollowOptions, followTape } from "./tape_follower.ts";
import { TapeOpenError, tapeOpenError, TapeReader, type TapeReadOptions } from "./tape_reader.ts";
import type { CheckpointRecord, TapeMeta, TapeRecord } from "./types.ts";
import { emptyStats } from "./tape_stats.ts";

/**
 * Where tapes go, and where tape ids are looked up, unless told otherwise:
 * `./tapes`, relative to the working directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_TAPES_DIR } from "./tape_directory.ts";
 * assert.equal(DEFAULT_TAPES_DIR, "./tapes");
 * ```
 */
export const DEFAULT_TAPES_DIR = "./tapes";

/**
 * Options of {@linkcode TapeDirectory}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeDirectory, type TapeDirectoryOptions } from "./tape_directory.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/notes.jsonl`, "not a tape\n");
 * const kinds: string[] = [];
 * const options: TapeDirectoryOptions = { onWarning: (w) => kinds.push(w.kind) };
 * assert.deepEqual(await new TapeDirectory(dir, options).list(), []);
 * assert.deepEqual(kinds, ["bad-line"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface TapeDirectoryOptions {
  /**
   * Told about tapes that {@linkcode TapeDirectory.list} leaves out (files that
   * are not tapes) or lists without their unreadable meta file. By default
   * `warning: <message>` is printed to stderr.
   */
  onWarning?: (warning: TapeWarning) => void;
}

/**
 * A tape of a directory: its meta (read or reconstructed) and its `.jsonl` path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeDirectory, type TapeEntry } from "./tape_directory.ts";
 * import { TapeWriter } from "./tape_writer.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.finalize();
 * const [entry]: TapeEntry[] = await new TapeDirectory(dir).entries();
 * assert.equal(entry?.path, writer.path);
 * assert.equal(entry?.meta.status, "finalized");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface TapeEntry {
  /** The tape's meta, read from its meta file or rebuilt from the tape. */
  meta: TapeMeta;
  /** Path of the tape's `.jsonl` file. */
  path: string;
}

const META_SUFFIX = ".meta.json";
const TAPE_SUFFIX = ".jsonl";
/** Meta files read at once while listing, so a big directory does not open thousands of files. */
const LIST_CONCURRENCY = 16;
/** Bytes read from the end of a tape without meta file to find its last checkpoint. */
const TAIL_BYTES = 256 * 1024;

/**
 * The tapes of one directory. Reading never locks or writes anything, so a
 * tape can be listed, opened and followed while `record` is writing it,
 * without slowing the writer down.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeDirectory } from "./tape_directory.ts";
 * import { TapeWriter } from "./tape_writer.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir, { name: "demo" });
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * const tapes = new TapeDirectory(dir);
 * const metas = await tapes.list();
 * assert.deepEqual(metas.map((meta) => [meta.name, meta.status]), [["demo", "recording"]]);
 * {
 *   using reader = await tapes.open("demo");
 *   const frames = await Array.fromAsync(reader.frames());
 *   assert.deepEqual(frames.map((frame) => frame.seq), [1]);
 * }
 * await writer.finalize();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class TapeDirectory {
  /** The directory, as given. */
  readonly root: string;
  #onWarning: (warning: TapeWarning) => void;

  /** Uses the tapes in `root` (which need not exist until it is read). */
  constructor(root: string, options: TapeDirectoryOptions = {}) {
    this.root = root;
    this.#onWarning = options.onWarning ?? printWarning;
  }

  /**
   * The meta of every tape, newest first. A tape without a meta file (or
   * with an unreadable one) is listed with a meta rebuilt from its init
   * record and last checkpoint; a `.jsonl` file that is not a tape is left
   * out with a warning. Throws a `TypeError` naming the directory when it
   * cannot be read.
   */
  async list(): Promise<TapeMeta[]> {
    return (await this.entries()).map((e) => e.meta);
  }

  /** Like {@linkcode TapeDirectory.list}, with the path of each tape's `.jsonl` file. */
  entries(): Promise<TapeEntry[]> {
    return this.#entries(this.#onWarning);
  }

  async #entries(onWarning: (warning: TapeWarning) => void): Promise<TapeEntry[]> {
    const names = await this.#names();
    const tapes = names.filter((n) => n.endsWith(TAPE_SUFFIX));
    const metas = new Set(names.filter((n) => n.endsWith(META_SUFFIX) && !isMetaTempFile(n)));
    // A meta file whose tape is gone still names a tape (its data is lost, its record is not).
    const stems = new Set([
      ...tapes.map((n) => n.slice(0, -TAPE_SUFFIX.length)),
      ...[...metas].map((n) => n.slice(0, -META_SUFFIX.length)),
    ]);
    const found: TapeEntry[] = [];
    const todo = [...stems];
    const worker = async () => {
      for (let stem = todo.pop(); stem !== undefined; stem = todo.pop()) {
        const entry = await this.#entry(stem, metas.has(stem + META_SUFFIX), onWarning);
        if (entry !== undefined) found.push(entry);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LIST_CONCURRENCY, todo.length) }, worker));
    return found.sort(newestFirst);
  }

  /**
   * The `.jsonl` path of a tape given by any of: a path to its `.jsonl` file,
   * a path to its `.meta.json` file, its tape id, a unique prefix of its
   * tape id, or its name. Throws {@linkcode TapeOpenError} when nothing
   * matches and a `TypeError` when a prefix or name matches several tapes.
   */
  async resolve(idOrPath: string): Promise<string> {
    if (idOrPath === "") throw new TypeError("A tape id or path is required");
    let candidate = idOrPath;
    if (candidate.endsWith(META_SUFFIX)) {
      candidate = candidate.slice(0, -META_SUFFIX.length) + TAPE_SUFFIX;
    }
    const kind = await fileKind(candidate);
    if (kind === "file") return candidate;
    if (kind === "directory") throw new TapeOpenError(candidate, "is-directory", "is a directory");
    const looksLikePath = candidate.includes("/") || candidate.endsWith(TAPE_SUFFIX);
    if (looksLikePath) {
      const inRoot = join(this.root, candidate);
      if (!candidate.startsWith("/") && await isFile(inRoot)) return inRoot;
      throw tapeOpenError(candidate, kind);
    }
    const byId = join(this.root, candidate + TAPE_SUFFIX);
    if (await isFile(byId)) return byId;
    // Quietly: files that are not tapes are no concern of a lookup.
    const entries = await this.#entries(() => {}).catch(() => [] as TapeEntry[]);
    const exact = entries.filter((e) => e.meta.tape_id === candidate);
    if (exact.length === 1) return exact[0]!.path;
    const named = entries.filter((e) => e.meta.name === candidate);
    const prefixed = entries.filter((e) => e.meta.tape_id.startsWith(candidate));
    for (const matches of [named, prefixed]) {
      if (matches.length === 1) return matches[0]!.path;
      if (matches.length > 1) {
        const ids = matches.slice(0, 5).map((e) => `'${e.meta.tape_id}'`).join(", ");
        throw new TypeError(
          `Tape '${candidate}' is ambiguous in '${this.root}': it matches ${ids}` +
            (matches.length > 5 ? ` and ${matches.length - 5} more` : ""),
        );
      }
    }
    throw new TapeOpenError(
      candidate,
      "not-found",
      `no tape with that id or name in '${this.root}'`,
    );
  }

  /** Opens a tape for reading; see {@linkcode TapeDirectory.resolve} and {@linkcode TapeReader.open}. */
  async open(idOrPath: string, options: TapeReadOptions = {}): Promise<TapeReader> {
    return await TapeReader.open(await this.resolve(idOrPath), options);
  }

  /**
   * Follows a tape, typically one being recorded; see {@linkcode followTape}.
   * With `waitForFile`, a tape id that does not exist yet is waited for as
   * `<root>/<id>.jsonl`.
   */
  follow(idOrPath: string, options: FollowOptions = {}): AsyncIterableIterator<TapeRecord> {
    return this.#follow(idOrPath, options);
  }

  async *#follow(idOrPath: string, options: FollowOptions): AsyncGenerator<TapeRecord> {
    let path: string;
    try {
      path = await this.resolve(idOrPath);
    } catch (e) {
      const plainId = !idOrPath.includes("/") && !idOrPath.endsWith(TAPE_SUFFIX) &&
        !idOrPath.endsWith(META_SUFFIX);
      if (!(options.waitForFile && plainId && e instanceof TapeOpenError)) throw e;
      path = join(this.root, idOrPath + TAPE_SUFFIX);
    }
    yield* followTape(path, options);
  }

  async #names(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.root)) {
        if (entry.isFile || entry.isSymlink) names.push(entry.name);
      }
    } catch (e) {
      throw new TypeError(`Cannot list tapes in '${this.root}': ${ioReason(e)}`, { cause: e });
    }
    return names;
  }

  async #entry(
    stem: string,
    hasMeta: boolean,
    onWarning: (warning: TapeWarning) => void,
  ): Promise<TapeEntry | undefined> {
    const path = join(this.root, stem + TAPE_SUFFIX);
    if (hasMeta) {
      const metaPath = join(this.root, stem + META_SUFFIX);
      try {
        return { meta: await readMeta(metaPath), path };
      } catch (e) {
        warnAbout(onWarning, metaPath, `${(e as Error).message}, using the tape itself`);
      }
    }
    try {
      return { meta: await rebuildMeta(path, stem), path };
    } catch (e) {
      warnAbout(onWarning, path, `${(e as Error).message}, not listed`);
      return undefined;
    }
  }
}

function warnAbout(onWarning: (w: TapeWarning) => void, path: string, message: string): void {
  onWarning({ kind: "bad-line", path, line: 1, offset: 0, message });
}

function newestFirst(a: TapeEntry, b: TapeEntry): number {
  const ta = Date.parse(a.meta.created_at);
  const tb = Date.parse(b.meta.created_at);
  if (ta !== tb && !Number.isNaN(ta) && !Number.isNaN(tb)) return tb - ta;
  return a.meta.tape_id < b.meta.tape_id ? 1 : a.meta.tape_id > b.meta.tape_id ? -1 : 0;
}

async function isFile(path: string): Promise<boolean> {
  return await fileKind(path) === "file";
}

/**
 * What is at `path`; a missing file gives its `NotFound` error. Any other
 * failure (a symlink loop, a name too long, a file used as a directory) is
 * thrown as a {@linkcode TapeOpenError} saying so, not passed off as missing.
 */
async function fileKind(path: string): Promise<"file" | "directory" | Deno.errors.NotFound> {
  try {
    const info = await Deno.stat(path);
    return info.isDirectory ? "directory" : "file";
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return e;
    throw tapeOpenError(path, e);
  }
}

/**
 * A meta for a tape that has no (readable) meta file, marked `rebuilt`: ids
 * and times from its init record, stats from its last checkpoint (found
 * near the end of the file, so this stays cheap for a big tape), status
 * `finalized` when that checkpoint is the final one and `recording`
 * otherwise, the transport its first frame names (else `unknown`). What
 * only the writer knew (performance) is a placeholder.
 */
async function rebuildMeta(path: string, stem: string): Promise<TapeMeta> {
  using reader = await TapeReader.open(path, { onWarning: () => {} });
  const info = await Deno.stat(path);
  const last = await lastCheckpoint(path, info.size, reader.dataOffset);
  const transport = await firstFrameTransport(reader);
  const stats = last === undefined
    ? { ...emptyStats(), bytes: info.size }
    : { ...last.stats, bytes: info.size };
  const finalized = last?.final === true;
  return {
    tape_id: reader.init.tape_id,
    name: basename(stem),
    description: "",
    tags: [],
    created_at: reader.init.created_at,
    updated_at: (info.mtime ?? new Date(reader.init.created_at)).toISOString(),
    finalized_at: finalized ? last.checkpoint_at : null,
    status: finalized ? "finalized" : "recording",
    transport: transport ?? "unknown",
    protocol_version: last?.protocol_version ?? reader.init.protocol_version,
    environment: {},
    stats,
    // Durability is a closed set and the tape does not record it: a placeholder, see `rebuilt`.
    performance: { durability: "flush", writes: 0, syncs: 0, max_batch: 0 },
    rebuilt: true,
  };
}

/** The `transport` of the tape's first frame, if it has one; reads no further. */
async function firstFrameTransport(reader: TapeReader): Promise<string | undefined> {
  for await (const frame of reader.frames()) return frame.transport;
  return undefined;
}

async function lastCheckpoint(
  path: string,
  size: number,
  dataOffset: number,
): Promise<CheckpointRecord | undefined> {
  const start = Math.max(dataOffset, size - TAIL_BYTES);
  if (start >= size) return undefined;
  using file = await Deno.open(path, { read: true });
  await file.seek(start, Deno.SeekMode.Start);
  const bytes = new Uint8Array(size - start);
  let got = 0;
  while (got < bytes.length) {
    const n = await file.read(bytes.subarray(got));
    if (n === null) break;
    got += n;
  }
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes.subarray(0, got));
  const lines = text.split("\n");
  // After the last newline: nothing, or a line still being written.
  lines.pop();
  // The first piece may be the middle of a line, which does not parse.
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.includes('"checkpoint"')) continue;
    try {
      const record = parseRecordLine(line);
      if (record.type === "checkpoint") return record;
    } catch {
      // Not a whole record.
    }
  }
  return undefined;
}
