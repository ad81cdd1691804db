/**
 * The plaintext of a segment: frames back to back, each a 24-byte header
 * (payload length, kind, type id, seq, timestamp) and its payload. A
 * {@linkcode SegmentBuilder} gathers records into one; a
 * {@linkcode FrameReader} checks an opened one against its segment header
 * and hands out its records.
 *
 * @module
 */

import type { StreamMessage } from "../stream/stream_message.ts";
import { SealedDamageError } from "./sealed_errors.ts";
import {
  FRAME_HEADER_BYTES,
  FRAME_METADATA,
  FRAME_RECORD,
  MAX_SEGMENT_PLAINTEXT,
} from "./sealed_format.ts";
import type { SegmentHeader } from "./segment_header.ts";

const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;
const MAX_TYPE_ID = 0xffff;
// The high half of the first seq that is not a safe integer (2^53).
const SAFE_HIGH = 1 << 21;
const INITIAL_CAPACITY = 64 * 1024;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Gathers records (and metadata) into the plaintext of one segment, then
 * hands it out with {@linkcode SegmentBuilder.take} and starts the next.
 * Record seqs must rise strictly, across segments too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SegmentBuilder } from "./segment_frames.ts";
 * const b = new SegmentBuilder();
 * b.addRecord(7, 1n, 2, new Uint8Array([1, 2, 3]));
 * b.addRecord(8, 2n, 2, new Uint8Array(0));
 * assert.deepEqual([b.frameCount, b.dataFrames, b.firstSeq, b.lastSeq], [2, 2, 7, 8]);
 * assert.equal(b.take().length, 24 + 3 + 24);
 * assert.equal(b.byteLength, 0);
 * ```
 */
export class SegmentBuilder {
  #bytes: Uint8Array<ArrayBuffer>;
  #view: DataView;
  #length = 0;
  #frames = 0;
  #records = 0;
  #firstSeq = 0;
  #lastSeq = 0;
  /** The last seq ever added, which the next record must pass. */
  #floor = 0;

  /** Starts an empty builder; `capacity` is the initial buffer size, which doubles as needed. */
  constructor(capacity: number = INITIAL_CAPACITY) {
    this.#bytes = new Uint8Array(Math.max(FRAME_HEADER_BYTES, capacity));
    this.#view = new DataView(this.#bytes.buffer);
  }

  /** Plaintext bytes gathered so far. */
  get byteLength(): number {
    return this.#length;
  }

  /** Frames gathered so far, metadata included. */
  get frameCount(): number {
    return this.#frames;
  }

  /** Record frames gathered so far. */
  get dataFrames(): number {
    return this.#records;
  }

  /** Seq of the first record gathered; 0 when there is none. */
  get firstSeq(): number {
    return this.#firstSeq;
  }

  /** Seq of the last record gathered; 0 when there is none. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * Adds a record, copying `payload`.
   *
   * @throws {RangeError} when `seq` does not pass the last one, `typeId` or
   *   `timestampNs` is out of range, or the segment would pass 64 MiB.
   */
  addRecord(seq: number, timestampNs: bigint, typeId: number, payload: Uint8Array): void {
    if (!Number.isSafeInteger(seq) || seq <= this.#floor) {
      throw new RangeError(`Record seq '${seq}' does not follow seq '${this.#floor}'`);
    }
    if (!Number.isInteger(typeId) || typeId < 0 || typeId > MAX_TYPE_ID) {
      throw new RangeError(`Type id '${typeId}' is not 0 to ${MAX_TYPE_ID}`);
    }
    if (timestampNs < MIN_I64 || timestampNs > MAX_I64) {
      throw new RangeError(`Timestamp '${timestampNs}' does not fit 64 bits`);
    }
    const at = this.#frame(FRAME_RECORD, payload.length);
    this.#view.setUint16(at + 6, typeId, true);
    // A safe integer as two halves: no BigInt for every record.
    this.#view.setUint32(at + 8, seq >>> 0, true);
    this.#view.setUint32(at + 12, Math.floor(seq / 0x1_0000_0000), true);
    this.#view.setBigInt64(at + 16, timestampNs, true);
    this.#bytes.set(payload, at + FRAME_HEADER_BYTES);
    this.#records++;
    if (this.#firstSeq === 0) this.#firstSeq = seq;
    this.#lastSeq = this.#floor = seq;
  }

  /**
   * Adds a metadata frame: `json`, a JSON object about the stream, as UTF-8.
   *
   * @throws {TypeError} when `json` is not a plain object.
   * @throws {RangeError} when the segment would pass 64 MiB.
   */
  addMetadata(json: Record<string, unknown>): void {
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new TypeError("Metadata is a JSON object");
    }
    const payload = utf8.encode(JSON.stringify(json));
    const at = this.#frame(FRAME_METADATA, payload.length);
    this.#bytes.fill(0, at + 6, at + FRAME_HEADER_BYTES);
    this.#bytes.set(payload, at + FRAME_HEADER_BYTES);
  }

  /**
   * The plaintext gathered, exactly its length, in an ArrayBuffer of its
   * own (so it can be transferred to a Worker); the builder starts afresh.
   */
  take(): Uint8Array<ArrayBuffer> {
    const capacity = this.#bytes.length;
    const out = new Uint8Array(this.#bytes.buffer.transfer(this.#length));
    this.#restart(new Uint8Array(capacity));
    return out;
  }

  /**
   * The plaintext gathered, as a view of the start of the builder's buffer,
   * which the caller now owns; the builder starts afresh in `next` (a
   * buffer filling its ArrayBuffer, which the caller gives up; it grows as
   * needed). No byte is copied or
   * allocated, so a writer that recycles its buffers cuts segments for free.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SegmentBuilder } from "./segment_frames.ts";
   * const b = new SegmentBuilder();
   * b.addRecord(1, 0n, 0, new Uint8Array([9]));
   * const next = new Uint8Array(1024);
   * const plaintext = b.cut(next);
   * assert.equal(plaintext.length, 25);
   * b.addRecord(2, 0n, 0, new Uint8Array([8]));
   * assert.equal(b.cut(new Uint8Array(64)).buffer, next.buffer);
   * ```
   */
  cut(next: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
    const out = this.#bytes.subarray(0, this.#length);
    const whole = next.byteOffset === 0 && next.length === next.buffer.byteLength;
    this.#restart(
      whole && next.length >= FRAME_HEADER_BYTES ? next : new Uint8Array(INITIAL_CAPACITY),
    );
    return out;
  }

  #restart(bytes: Uint8Array<ArrayBuffer>): void {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#length =
      this.#frames =
      this.#records =
      this.#firstSeq =
      this.#lastSeq =
        0;
  }

  /** Makes room for a frame of `payloadLength`, writes its length and kind, and returns its offset. */
  #frame(kind: number, payloadLength: number): number {
    const at = this.#length;
    const end = at + FRAME_HEADER_BYTES + payloadLength;
    if (end > MAX_SEGMENT_PLAINTEXT) {
      throw new RangeError(
        `A frame of '${payloadLength}' bytes would take the segment past '${MAX_SEGMENT_PLAINTEXT}' bytes`,
      );
    }
    if (end > this.#bytes.length) {
      let capacity = this.#bytes.length * 2;
      while (capacity < end) capacity *= 2;
      const grown = new Uint8Array(Math.min(capacity, MAX_SEGMENT_PLAINTEXT));
      grown.set(this.#bytes.subarray(0, at));
      this.#bytes = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#view.setUint32(at, payloadLength, true);
    this.#view.setUint16(at + 4, kind, true);
    this.#length = end;
    this.#frames++;
    return at;
  }
}

/** The one message object a {@linkcode FrameReader} lends, refilled by each `next()`. */
class FrameMessage implements StreamMessage {
  seq = 0;
  timestampNs = 0n;
  typeId = 0;
  payload: Uint8Array;
  data: DataView;
  payloadOffset = 0;
  payloadLength = 0;
  constructor(plaintext: Uint8Array, data: DataView) {
    this.payload = plaintext.subarray(0, 0);
    this.data = data;
  }
}

/**
 * Reads the records of an opened segment. The constructor checks the whole
 * plaintext against its header first (frame lengths, kinds, counts, seqs),
 * so a bad segment is refused before any of its records is handed out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameReader, SegmentBuilder } from "./segment_frames.ts";
 * const b = new SegmentBuilder();
 * b.addMetadata({ source: "quotes" });
 * b.addRecord(5, 9n, 1, new Uint8Array([42]));
 * const header = { final: true, index: 0, wireLength: 0, plaintextLength: b.byteLength,
 *   frameCount: 2, dataFrames: 1, firstSeq: 5, lastSeq: 5 };
 * const r = new FrameReader(b.take(), header, { path: "s", offset: 0, seq: 4 });
 * const m = r.next();
 * assert.deepEqual([m?.seq, m?.timestampNs, m?.typeId, m?.payload[0]], [5, 9n, 1, 42]);
 * assert.equal(r.next(), undefined);
 * assert.deepEqual(r.metadata, [{ source: "quotes" }]);
 * ```
 */
export class FrameReader {
  /** The metadata objects of the segment, in order. */
  readonly metadata: Record<string, unknown>[] = [];
  readonly #plaintext: Uint8Array;
  readonly #view: DataView;
  readonly #message: FrameMessage;
  #at = 0;

  /**
   * Checks `plaintext` against `header`.
   *
   * @param where The store, the segment's offset and the last seq delivered before it.
   * @throws {SealedDamageError} reason `header` when a frame or count is
   *   wrong, `order` when record seqs do not rise past `where.seq`.
   */
  constructor(
    plaintext: Uint8Array,
    header: SegmentHeader,
    where: { path: string; offset: number; seq: number },
  ) {
    this.#plaintext = plaintext;
    this.#view = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
    this.#message = new FrameMessage(plaintext, this.#view);
    const segment = `segment ${header.index}`;
    const damage = (reason: "header" | "order", detail: string) =>
      new SealedDamageError(where.path, where.offset, where.seq, reason, `${segment} ${detail}`);

    if (plaintext.length !== header.plaintextLength) {
      throw damage(
        "header",
        `opens to '${plaintext.length}' bytes, not '${header.plaintextLength}'`,
      );
    }
    if (!header.final && header.frameCount === 0) throw damage("header", "is empty and not final");
    const v = this.#view;
    let frames = 0, records = 0, first = 0, last = where.seq;
    for (let at = 0; at < plaintext.length; frames++) {
      if (plaintext.length - at < FRAME_HEADER_BYTES) {
        throw damage("header", `has a frame header cut short at byte ${at}`);
      }
      const length = v.getUint32(at, true);
      const kind = v.getUint16(at + 4, true);
      const body = at + FRAME_HEADER_BYTES;
      if (length > plaintext.length - body) {
        throw damage("header", `has a frame at byte ${at} longer than the segment`);
      }
      if (kind === FRAME_RECORD) {
        // Two halves, exact below 2^53, rather than a BigInt for every record.
        const high = v.getUint32(at + 12, true);
        const seq = high * 0x1_0000_0000 + v.getUint32(at + 8, true);
        if (seq <= last || high >= SAFE_HIGH) {
          throw damage(
            "order",
            `has record seq '${v.getBigUint64(at + 8, true)}' after seq '${last}'`,
          );
        }
        last = seq;
        if (records++ === 0) first = last;
      } else if (kind === FRAME_METADATA) {
        if (
          v.getUint16(at + 6, true) !== 0 || v.getBigUint64(at + 8) !== 0n ||
          v.getBigUint64(at + 16) !== 0n
        ) {
          throw damage(
            "header",
            `has a metadata frame at byte ${at} with a type, seq or timestamp`,
          );
        }
        this.metadata.push(parseMetadata(plaintext.subarray(body, body + length), damage));
      } else {
        throw damage("header", `has a frame of unknown kind '${kind}' at byte ${at}`);
      }
      at = body + length;
    }
    const lastSeq = records === 0 ? 0 : last;
    if (
      frames !== header.frameCount || records !== header.dataFrames ||
      first !== header.firstSeq || lastSeq !== header.lastSeq
    ) {
      throw damage(
        "header",
        `holds ${frames} frames, ${records} records, seqs '${first}'..'${lastSeq}', not as its header says`,
      );
    }
  }

  /**
   * The next record, or `undefined` at the end. The message object and its
   * payload are lent: both change at the next call.
   */
  next(): StreamMessage | undefined {
    const v = this.#view;
    const m = this.#message;
    while (this.#at < this.#plaintext.length) {
      const at = this.#at;
      const length = v.getUint32(at, true);
      const body = at + FRAME_HEADER_BYTES;
      this.#at = body + length;
      if (v.getUint16(at + 4, true) !== FRAME_RECORD) continue;
      m.seq = v.getUint32(at + 12, true) * 0x1_0000_0000 + v.getUint32(at + 8, true);
      m.timestampNs = v.getBigInt64(at + 16, true);
      m.typeId = v.getUint16(at + 6, true);
      m.payload = this.#plaintext.subarray(body, body + length);
      m.payloadOffset = body;
      m.payloadLength = length;
      return m;
    }
    return undefined;
  }
}

function parseMetadata(
  bytes: Uint8Array,
  damage: (reason: "header", detail: string) => SealedDamageError,
): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    throw damage("header", "has metadata that is not JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw damage("header", "has metadata that is not a JSON object");
  }
  return value as Record<string, unknown>;
}
