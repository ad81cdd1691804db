/**
 * The Worker side of {@linkcode CipherPool}: seals and opens segments with
 * {@linkcode sealSegment} and {@linkcode openSegment}, one job a message.
 * Its bytes arrive and leave as transferred ArrayBuffers, so a segment is
 * never copied between threads. It touches no file: the pool's thread does
 * all the reading and writing.
 *
 * Started by the pool as
 * `new Worker(new URL("./cipher_worker.ts", import.meta.url).href, { type: "module" })`;
 * it has nothing to import.
 *
 * @module
 */

import { openSegment, sealSegment } from "./segment_cipher.ts";
import { segmentChecksumOk, type SegmentHeader } from "./segment_header.ts";

/** The fields of a segment header a sealer chooses; the lengths follow from the plaintext. */
export type SegmentFields = Omit<SegmentHeader, "wireLength" | "plaintextLength">;

/**
 * A job for a cipher worker. `bytes` and `into` are transferred: the sender
 * loses them, and the worker gives back what it is done with.
 */
export type CipherJob =
  | {
    /** Seal `bytes` (the frames) into a whole unit, header and wire. */
    op: "seal";
    /** Matches the reply to the job. */
    id: number;
    /** The run's 32-byte payload key. */
    key: Uint8Array;
    /** The run header's SHA-256. */
    headerHash: Uint8Array;
    /** The segment header's fields. */
    segment: SegmentFields;
    /** The plaintext. */
    bytes: Uint8Array;
    /** Where to write the unit, when it is large enough. */
    into?: Uint8Array<ArrayBuffer> | undefined;
  }
  | {
    /** Open `bytes` (a whole unit) into its plaintext. */
    op: "open";
    /** Matches the reply to the job. */
    id: number;
    /** The run's 32-byte payload key. */
    key: Uint8Array;
    /** The run header's SHA-256. */
    headerHash: Uint8Array;
    /** The unit. */
    bytes: Uint8Array;
    /** Where to write the plaintext, when it is large enough. */
    into?: Uint8Array<ArrayBuffer> | undefined;
    /** Check the unit's CRC32C first, and answer `checksum` when it fails. */
    checksum?: boolean | undefined;
  };

/**
 * A worker's message: `ready` once it can take jobs (a job posted before
 * is lost while the module's top-level await runs), then one answer a job:
 * the sealed unit or opened plaintext (transferred), `null` for a unit that
 * does not authenticate, `checksum` for one that fails its CRC32C, or the
 * error the job threw; with the job's buffers it is done with (`spare`,
 * transferred back for reuse).
 */
export type CipherReply =
  | { ready: true }
  | { id: number; bytes: Uint8Array | null | "checksum"; spare: Uint8Array[] }
  | { id: number; error: { name: string; message: string } };

/**
 * `bytes` itself when it fills an ArrayBuffer of its own, so it can be
 * transferred to another thread; otherwise a copy that does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { transferable } from "./cipher_worker.ts";
 * const whole = new Uint8Array(4);
 * assert.equal(transferable(whole), whole);
 * const part = whole.subarray(1);
 * assert.notEqual(transferable(part), part);
 * assert.equal(transferable(part).buffer.byteLength, 3);
 * ```
 */
export function transferable(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer;
  return whole ? bytes : bytes.slice();
}

/**
 * What one job yields, run on the calling thread: the sealed unit or the
 * opened plaintext (a view of `job.into` when it is large enough),
 * `undefined` when a unit does not authenticate, or `checksum` when the job
 * asked for the CRC32C check and the unit fails it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCipherJob } from "./cipher_worker.ts";
 * const key = new Uint8Array(32), headerHash = new Uint8Array(32);
 * const segment = { final: true, index: 0, frameCount: 0, dataFrames: 0, firstSeq: 0, lastSeq: 0 };
 * const unit = runCipherJob({ op: "seal", id: 1, key, headerHash, segment, bytes: new Uint8Array(0) });
 * assert.ok(unit instanceof Uint8Array);
 * assert.equal(unit.length, 56 + 16);
 * assert.equal(runCipherJob({ op: "open", id: 2, key, headerHash, bytes: unit })?.length, 0);
 * ```
 */
export function runCipherJob(job: CipherJob): Uint8Array | undefined | "checksum" {
  if (job.op === "seal") {
    return sealSegment(job.key, job.headerHash, job.segment, job.bytes, job.into);
  }
  if (job.checksum === true && !segmentChecksumOk(job.bytes)) return "checksum";
  return openSegment(job.key, job.headerHash, job.bytes, job.into);
}

// Run as a worker only: imported for its types or for runCipherJob, it
// leaves the importing thread's handlers alone.
const scope = globalThis as unknown as {
  WorkerGlobalScope?: unknown;
  onmessage: ((event: MessageEvent<CipherJob>) => void) | null;
  postMessage(message: CipherReply, transfer: Transferable[]): void;
};
if (scope.WorkerGlobalScope !== undefined) {
  scope.onmessage = (event) => {
    const job = event.data;
    let result: Uint8Array | undefined | "checksum";
    try {
      result = runCipherJob(job);
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      scope.postMessage({ id: job.id, error: { name: e.name, message: e.message } }, []);
      return;
    }
    // The job's buffers go back for reuse: its input, and `into` unless the
    // result is written there. Both functions return a view filling a
    // buffer of its own, or a view of `into`, so the result can be
    // transferred.
    const spare = [job.bytes];
    if (
      job.into !== undefined && (typeof result !== "object" || result.buffer !== job.into.buffer)
    ) {
      spare.push(job.into);
    }
    const bytes = typeof result === "object" ? result : result ?? null;
    const transfer = spare.map((b) => b.buffer as ArrayBuffer);
    if (typeof bytes === "object" && bytes !== null) transfer.push(bytes.buffer as ArrayBuffer);
    scope.postMessage({ id: job.id, bytes, spare }, transfer);
  };
  scope.postMessage({ ready: true }, []);
}
