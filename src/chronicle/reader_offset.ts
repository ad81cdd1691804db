/**
 * A named reader's committed position, kept in `readers/<name>.offset` so the
 * reader resumes there after a restart, and so retention knows what the
 * reader still needs. Commits are one 8-byte store into the mapped file.
 *
 * @module
 */

import { QueueFormatError } from "./chronicle_errors.ts";
import {
  AID_FORMAT_VERSION,
  hasMagic,
  magicWord,
  OFFSET,
  OFFSET_HOLDING,
  OFFSET_MAGIC,
  OFFSET_SIZE,
  OFFSET_SUFFIX,
  READERS_DIR,
  readU64,
  writeMagic,
} from "./format.ts";
import { directoryModeFor, QUEUE_FILE_MODE, queueFileMode } from "./file_mode.ts";
import { MappedFile } from "./mapped_file.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** What retention needs to know of one named reader. */
export interface ReaderPosition {
  /** The reader's name. */
  name: string;
  /** Seq of the last record it committed; 0 when it has committed nothing. */
  committedSeq: number;
  /** Whether it holds back retention. */
  holding: boolean;
}

/**
 * Throws unless `name` can name a reader (letters, digits, `.`, `_`, `-`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkReaderName } from "./reader_offset.ts";
 * assert.doesNotThrow(() => checkReaderName("archive-tap"));
 * ```
 */
export function checkReaderName(name: string): void {
  if (!NAME.test(name)) {
    throw new TypeError(
      `Reader name '${name}' is not valid: use 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
}

/**
 * The mapped offset file of one named reader.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReaderOffset } from "./reader_offset.ts";
 * const dir = Deno.makeTempDirSync();
 * const offset = ReaderOffset.open(dir, "audit", true);
 * offset.commit(41);
 * offset.close();
 * assert.deepEqual(ReaderOffset.list(dir), [{ name: "audit", committedSeq: 41, holding: true }]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class ReaderOffset {
  /** The reader's name. */
  readonly name: string;
  readonly #file: MappedFile;
  readonly #seq: BigUint64Array;

  private constructor(name: string, file: MappedFile) {
    this.name = name;
    this.#file = file;
    this.#seq = new BigUint64Array(file.bytes.buffer, OFFSET.committedSeq, 2);
  }

  /** Path of a reader's offset file. */
  static path(dir: string, name: string): string {
    return `${dir}/${READERS_DIR}/${name}${OFFSET_SUFFIX}`;
  }

  /**
   * Opens (creating when missing) the offset file of reader `name` and
   * records whether it holds back retention. An offset file created now
   * gets the permission bits 0640, whoever's queue it is in; a `readers`
   * directory created now gets those of the queue's files with the
   * matching execute bits, so the readers of a queue shared with the group
   * can all keep their offsets there. The umask may take bits away.
   *
   * @throws {QueueFormatError} when the file exists but is not a reader offset file.
   */
  static open(dir: string, name: string, holding: boolean): ReaderOffset {
    checkReaderName(name);
    Deno.mkdirSync(`${dir}/${READERS_DIR}`, {
      recursive: true,
      mode: directoryModeFor(queueFileMode(dir)),
    });
    const path = ReaderOffset.path(dir, name);
    const file = MappedFile.open(path, {
      writable: true,
      createSize: OFFSET_SIZE,
      mode: QUEUE_FILE_MODE,
    });
    const words = file.words;
    if (file.size !== OFFSET_SIZE) {
      file.release();
      throw new QueueFormatError(
        `Reader offset file '${path}' is ${file.size} bytes, not ${OFFSET_SIZE}`,
        path,
        0,
      );
    }
    if (words[OFFSET.magic >>> 2] === 0) {
      words[OFFSET.version >>> 2] = AID_FORMAT_VERSION;
      writeMagic(file.bytes, OFFSET.magic + 4, OFFSET_MAGIC.slice(4));
      Atomics.store(words, OFFSET.magic >>> 2, magicWord(OFFSET_MAGIC));
    } else if (!hasMagic(file.bytes, OFFSET.magic, OFFSET_MAGIC)) {
      file.release();
      throw new QueueFormatError(
        `File '${path}' is not a spool reader offset file (bad magic)`,
        path,
        0,
      );
    } else if (words[OFFSET.version >>> 2]! > AID_FORMAT_VERSION) {
      const version = words[OFFSET.version >>> 2]; // read before release() zeroes the view
      file.release();
      throw new QueueFormatError(
        `Reader offset file '${path}' has format version ${version}; this spool reads up to ${AID_FORMAT_VERSION}`,
        path,
        OFFSET.version,
      );
    }
    words[OFFSET.flags >>> 2] = holding ? OFFSET_HOLDING : 0;
    return new ReaderOffset(name, file);
  }

  /** Path of the offset file. */
  get path(): string {
    return this.#file.path;
  }

  /** Seq of the last committed record; 0 when nothing was committed. */
  get committedSeq(): number {
    return Number(Atomics.load(this.#seq, 0));
  }

  /** Records `seq` as consumed, with one atomic 8-byte store. */
  commit(seq: number): void {
    Atomics.store(this.#seq, 0, BigInt(seq));
    this.#seq[1] = BigInt(Date.now()) * 1_000_000n;
  }

  /** Unmaps the file; the committed position stays in it. */
  close(): void {
    this.#file.release();
  }

  /** Every named reader of a queue, read without mapping. Unreadable files are skipped. */
  static list(dir: string): ReaderPosition[] {
    const out: ReaderPosition[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(`${dir}/${READERS_DIR}`)];
    } catch {
      return out;
    }
    for (const entry of entries) {
      if (!entry.isFile || !entry.name.endsWith(OFFSET_SUFFIX)) continue;
      try {
        const bytes = Deno.readFileSync(`${dir}/${READERS_DIR}/${entry.name}`);
        if (bytes.length !== OFFSET_SIZE || !hasMagic(bytes, OFFSET.magic, OFFSET_MAGIC)) continue;
        const words = new Uint32Array(bytes.buffer, bytes.byteOffset, OFFSET_SIZE / 4);
        if (words[OFFSET.version >>> 2]! > AID_FORMAT_VERSION) {
          // Written by a newer spool: assume it needs everything.
          out.push({
            name: entry.name.slice(0, -OFFSET_SUFFIX.length),
            committedSeq: 0,
            holding: true,
          });
          continue;
        }
        out.push({
          name: entry.name.slice(0, -OFFSET_SUFFIX.length),
          committedSeq: readU64(words, OFFSET.committedSeq),
          holding: (words[OFFSET.flags >>> 2]! & OFFSET_HOLDING) !== 0,
        });
      } catch {
        // A reader removed while listing holds nothing back.
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Forgets a named reader, so it no longer holds back retention.
   *
   * @returns whether there was such a reader.
   */
  static remove(dir: string, name: string): boolean {
    checkReaderName(name);
    try {
      Deno.removeSync(ReaderOffset.path(dir, name));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }
}
