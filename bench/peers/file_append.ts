/**
 * Peer: plain appends to one file. Length-prefixed records are packed into a
 * 64 KiB userland buffer written with one `writeSync` each time it fills
 * (no fsync: the page cache, like the chronicle's `ipc` durability), and read
 * back in 1 MiB chunks with `readSync` into one buffer that is reused.
 * {@linkcode FileAppender} can also rotate to a new file at a size and
 * delete the oldest, as a log with retention does.
 *
 * @module
 */

import {
  encodeRecord,
  HEADER_BYTES,
  makePayload,
  nowNs,
  type Peer,
  recordSeq,
  type Timing,
} from "./peer.ts";

const WRITE_BUFFER = 64 * 1024;
const READ_BUFFER = 1024 * 1024;

/** How the plain file appends, for the tables. */
export const FILE_APPEND_METHOD = "writeSync per 64 KiB buffer, no fsync";
/** How the plain file is scanned, for the tables. */
export const FILE_SCAN_METHOD = "readSync of 1 MiB chunks";

/**
 * Writes `count` fresh records of `payloadBytes` each to the file at `path`
 * (replacing it), a timestamp read per record, and times that.
 */
export function appendFile(path: string, count: number, payloadBytes: number): Timing {
  using out = new FileAppender(path, payloadBytes);
  return out.timed(count);
}

/** When a {@linkcode FileAppender} starts a new file, and how many it keeps. */
export interface FileRotation {
  /** Start a new file before one would grow past this many bytes. */
  fileBytes: number;
  /** Delete the oldest files while there are more than this many, the one written included. */
  keep: number;
}

/**
 * Appends length-prefixed records to a plain file, seqs continuing from one
 * call to the next. With `rotation`, writes `<path>.0`, `<path>.1`, … instead,
 * as a log with retention does, so a long run keeps its disk use bounded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileAppender } from "./file_append.ts";
 * const dir = Deno.makeTempDirSync();
 * using out = new FileAppender(`${dir}/log`, 100, { fileBytes: 64 * 1024, keep: 2 });
 * out.timed(3000); // 528 records fill the buffer and a file: six files in all
 * assert.equal(out.rotations, 5);
 * assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["log.4", "log.5"]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class FileAppender {
  readonly #path: string;
  readonly #rotation: FileRotation | undefined;
  readonly #payload: Uint8Array;
  readonly #recordBytes: number;
  readonly #buf = new Uint8Array(WRITE_BUFFER);
  readonly #view = new DataView(this.#buf.buffer);
  #file: Deno.FsFile;
  #fileBytes = 0;
  #len = 0;
  #seq = 1;
  #rotations = 0;

  /** Opens the (first) file, replacing what it held. */
  constructor(path: string, payloadBytes: number, rotation?: FileRotation) {
    this.#recordBytes = HEADER_BYTES + payloadBytes;
    if (this.#recordBytes > WRITE_BUFFER) {
      throw new RangeError(`Record too large: '${this.#recordBytes}'`);
    }
    this.#path = path;
    this.#rotation = rotation;
    this.#payload = makePayload(payloadBytes);
    this.#file = this.#open();
  }

  /** How many times a new file was started. */
  get rotations(): number {
    return this.#rotations;
  }

  /** Appends `count` records, a timestamp read per record; the last may wait for {@linkcode flush}. */
  write(count: number): void {
    // Locals, not fields, in the loop: the per-record path of a plain file.
    const buf = this.#buf;
    const view = this.#view;
    const payload = this.#payload;
    const recordBytes = this.#recordBytes;
    const end = this.#seq + count;
    let len = this.#len;
    for (let seq = this.#seq; seq < end; seq++) {
      if (len + recordBytes > WRITE_BUFFER) {
        this.#len = len;
        this.flush();
        len = 0;
      }
      len = encodeRecord(view, buf, len, seq, nowNs(), 1, payload);
    }
    this.#len = len;
    this.#seq = end;
  }

  /** Writes the buffered records out, starting a new file first when rotation says so. */
  flush(): void {
    const len = this.#len;
    if (len === 0) return;
    const rotation = this.#rotation;
    if (rotation !== undefined && this.#fileBytes + len > rotation.fileBytes) {
      this.#file.close();
      this.#rotations++;
      this.#file = this.#open();
      this.#fileBytes = 0;
      if (this.#rotations >= rotation.keep) {
        Deno.removeSync(`${this.#path}.${this.#rotations - rotation.keep}`);
      }
    }
    const bytes = this.#buf.subarray(0, len);
    let off = 0;
    while (off < len) off += this.#file.writeSync(bytes.subarray(off));
    this.#fileBytes += len;
    this.#len = 0;
  }

  /** Appends and flushes `count` records, and times that. */
  timed(count: number): Timing {
    const t0 = performance.now();
    this.write(count);
    this.flush();
    const seconds = (performance.now() - t0) / 1000;
    return { records: count, payloadBytes: count * this.#payload.length, seconds };
  }

  /** Closes the file being written. */
  [Symbol.dispose](): void {
    this.#file.close();
  }

  #open(): Deno.FsFile {
    const path = this.#rotation === undefined ? this.#path : `${this.#path}.${this.#rotations}`;
    return Deno.openSync(path, { write: true, create: true, truncate: true });
  }
}

/**
 * Reads every record of the file at `path`, checking there are `expected`,
 * and times that. Each record's seq and length are read, and its first
 * payload byte with `touchPayload`, else its type id.
 */
export function scanFile(path: string, expected: number, touchPayload = true): Timing {
  using file = Deno.openSync(path, { read: true });
  const buf = new Uint8Array(READ_BUFFER);
  const view = new DataView(buf.buffer);
  const t0 = performance.now();
  let records = 0;
  let payloadTotal = 0;
  let checksum = 0;
  let have = 0;
  for (;;) {
    const n = file.readSync(buf.subarray(have));
    if (n === null || n === 0) break;
    have += n;
    let off = 0;
    while (off + HEADER_BYTES <= have) {
      const length = view.getUint32(off, true);
      const end = off + HEADER_BYTES + length;
      if (end > have) break;
      checksum += recordSeq(view, off) + length +
        (touchPayload ? buf[off + HEADER_BYTES]! : view.getUint16(off + 4, true));
      payloadTotal += length;
      records++;
      off = end;
    }
    buf.copyWithin(0, off, have);
    have -= off;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (records !== expected || checksum === 0) {
    throw new Error(`Plain file scan read '${records}' records, expected '${expected}'`);
  }
  return { records, payloadBytes: payloadTotal, seconds };
}

/** The plain file peer, whose scan can also leave the payload alone. */
export interface FilePeer extends Peer {
  /** Reads every record the last append wrote; see {@linkcode scanFile}. */
  scan(touchPayload?: boolean): Promise<Timing>;
}

/**
 * A plain file append peer keeping its file in `dir`.
 *
 * @example
 * ```ts ignore
 * const peer = openFileAppend(await Deno.makeTempDir());
 * console.log(await peer.append(1_000_000, 64), await peer.scan());
 * ```
 */
export function openFileAppend(dir: string): FilePeer {
  const path = `${dir}/plain-append.bin`;
  let written = 0;
  return {
    name: "plain file",
    appendMethod: FILE_APPEND_METHOD,
    scanMethod: FILE_SCAN_METHOD,
    append(count: number, payloadBytes: number): Promise<Timing> {
      const timing = appendFile(path, count, payloadBytes);
      written = count;
      return Promise.resolve(timing);
    },
    scan(touchPayload = true): Promise<Timing> {
      return Promise.resolve(scanFile(path, written, touchPayload));
    },
    close(): Promise<void> {
      return Deno.remove(path).catch(() => {});
    },
  };
}
