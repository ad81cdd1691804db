/**
 * Peer: plain appends to one file. Length-prefixed records are packed into a
 * 64 KiB userland buffer written with one `writeSync` each time it fills
 * (no fsync: the page cache, like the chronicle's `ipc` durability), and read
 * back in 1 MiB chunks with `readSync` into one buffer that is reused.
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
  const payload = makePayload(payloadBytes);
  const buf = new Uint8Array(WRITE_BUFFER);
  const view = new DataView(buf.buffer);
  const recordBytes = HEADER_BYTES + payloadBytes;
  if (recordBytes > WRITE_BUFFER) throw new RangeError(`Record too large: '${recordBytes}'`);
  using file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const t0 = performance.now();
  let len = 0;
  for (let seq = 1; seq <= count; seq++) {
    if (len + recordBytes > WRITE_BUFFER) {
      writeAll(file, buf.subarray(0, len));
      len = 0;
    }
    len = encodeRecord(view, buf, len, seq, nowNs(), 1, payload);
  }
  if (len > 0) writeAll(file, buf.subarray(0, len));
  const seconds = (performance.now() - t0) / 1000;
  return { records: count, payloadBytes: count * payloadBytes, seconds };
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

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}
