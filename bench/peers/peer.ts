/**
 * What every peer of the chronicle benchmarks offers: append a number of
 * records of one payload size, then scan them back, each timed by the peer.
 *
 * A record is what a chronicle record holds: a sequence number, a
 * nanosecond timestamp read per record, a type id and the payload. Peers
 * that store opaque messages (Redis, NATS, the plain file) store them as
 * {@linkcode encodeRecord} lays them out, a 24-byte header then the payload.
 *
 * @module
 */

/** Records moved and the time it took. */
export interface Timing {
  /** Records appended or read. */
  records: number;
  /** Payload bytes appended or read (headers not counted). */
  payloadBytes: number;
  /** Wall time, seconds. */
  seconds: number;
}

/** A storage system measured beside the chronicle. */
export interface Peer {
  /** Row label, with the server version where there is one. */
  readonly name: string;
  /** How the peer appends, for the tables. */
  readonly appendMethod: string;
  /** How the peer scans, for the tables. */
  readonly scanMethod: string;
  /**
   * Replaces whatever the peer holds with `count` fresh records of
   * `payloadBytes` each, and times that.
   */
  append(count: number, payloadBytes: number): Promise<Timing>;
  /** Reads every record the last append wrote, in order, and times that. */
  scan(): Promise<Timing>;
  /** Releases connections and files; the bench stops servers itself. */
  close(): Promise<void>;
}

/** A peer that could not run, and why. */
export interface UnavailablePeer {
  /** Row label. */
  readonly name: string;
  /** One line saying why. */
  readonly unavailable: string;
}

/** Bytes in front of each payload: length u32, type u16, pad u16, seq u64, timestamp u64. */
export const HEADER_BYTES = 24;

const TWO_32 = 2 ** 32;

/** Nanoseconds on a monotonic clock, as a number (fine for ~104 days of uptime). */
export function nowNs(): number {
  return Math.round(performance.now() * 1e6);
}

/**
 * Writes one length-prefixed record (header, then payload) into `bytes` at
 * `offset` through `view` (a view of the same buffer); returns the offset
 * after it.
 */
export function encodeRecord(
  view: DataView,
  bytes: Uint8Array,
  offset: number,
  seq: number,
  timestampNs: number,
  typeId: number,
  payload: Uint8Array,
): number {
  view.setUint32(offset, payload.length, true);
  view.setUint16(offset + 4, typeId, true);
  view.setUint16(offset + 6, 0, true);
  view.setUint32(offset + 8, seq % TWO_32, true);
  view.setUint32(offset + 12, Math.floor(seq / TWO_32), true);
  view.setUint32(offset + 16, timestampNs % TWO_32, true);
  view.setUint32(offset + 20, Math.floor(timestampNs / TWO_32), true);
  bytes.set(payload, offset + HEADER_BYTES);
  return offset + HEADER_BYTES + payload.length;
}

/** The sequence number of the record whose header starts at `offset`. */
export function recordSeq(view: DataView, offset: number): number {
  return view.getUint32(offset + 8, true) + view.getUint32(offset + 12, true) * TWO_32;
}

/** A payload of `size` bytes that is not all zeros. */
export function makePayload(size: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (i * 31 + 7) & 0xff;
  return p;
}

/** Whether a peer result is usable. */
export function isPeer(p: Peer | UnavailablePeer): p is Peer {
  return "append" in p;
}
