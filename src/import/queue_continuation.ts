/**
 * Whether a market-data import continues the queue it writes. A resume
 * (`fromLine`) must start at the line after the last one the queue holds,
 * in a queue the same kind of import wrote; a whole import into a queue
 * that already holds records must start after the last of them. Both are
 * told from the queue's last record: the vendor seq of an imported book
 * event is the input line it comes from, and the events each format
 * writes tell the formats apart. Without these checks a resume run twice,
 * or a file imported twice, would write its records twice.
 *
 * @module
 */

import { BookEvent } from "../book/book_event.ts";
import { BOOK_FLAG, BOOK_KIND, BOOK_KIND_NAMES } from "../book/book_protocol.ts";
import { queueExists, QueueReader } from "../chronicle/mod.ts";
import { isoTimeNs } from "../stream/message_line.ts";
import { QueueContinuityError } from "./import_error.ts";
import type { ImportFormat } from "./import_format.ts";
import type { ImportRecord } from "./queue_import.ts";

/** The market-data formats: their imports write book events whose vendor seq is the input line. */
export type VendorFormat = Extract<ImportFormat, "lobster" | "tardis-book" | "tardis-trades">;

/** The last record of a queue, as an import into it needs to know it. */
export interface QueueEnd {
  /** Its seq. */
  seq: number;
  /** Its timestamp, ns since the epoch. */
  timestampNs: bigint;
  /** Its type id. */
  typeId: number;
  /** Its book event's kind, flags and vendor seq; undefined when it is not a book event. */
  event: { kind: number; flags: number; vendorSeq: number } | undefined;
  /**
   * When that event ends no batch (an import stopped inside a line's
   * batch): how many records at the queue's end carry its vendor seq.
   */
  partialLine?: { line: number; records: number };
}

// The longest batch of one input line a resume looks back over.
const LINE_LOOKBACK = 4096;

/**
 * The last record of the queue at `queue`; undefined when there is no
 * queue there or it holds no record. A directory that is not a queue is
 * undefined too: the import that follows reports it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readQueueEnd } from "./queue_continuation.ts";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(await readQueueEnd(`${dir}/q`), undefined);
 * const w = await QueueWriter.open(`${dir}/q`);
 * w.append(7, new Uint8Array([1]), 100n);
 * w.append(7, new Uint8Array([2]), 200n);
 * w.close();
 * const end = await readQueueEnd(`${dir}/q`);
 * assert.deepEqual(end, { seq: 2, timestampNs: 200n, typeId: 7, event: undefined });
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function readQueueEnd(queue: string): Promise<QueueEnd | undefined> {
  try {
    if (!queueExists(queue)) return undefined;
  } catch {
    return undefined;
  }
  using reader = await QueueReader.open(queue, { start: "latest" });
  const last = reader.nextSeq - 1;
  if (last < 1) return undefined;
  try {
    reader.seek({ seq: last });
  } catch (error) {
    // An empty queue whose first seq is past 1.
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  const m = reader.next();
  if (m === undefined) return undefined;
  const e = new BookEvent();
  let event: QueueEnd["event"];
  try {
    if (e.wrap(m)) event = { kind: e.kind, flags: e.flags, vendorSeq: e.vendorSeq };
  } catch {
    // Malformed bytes under a book type id are no imported book event.
  }
  const end: QueueEnd = { seq: m.seq, timestampNs: m.timestampNs, typeId: m.typeId, event };
  if (event !== undefined && (event.flags & BOOK_FLAG.BatchEnd) === 0) {
    end.partialLine = {
      line: event.vendorSeq,
      records: await lineRecords(queue, last, event.vendorSeq),
    };
  }
  return end;
}

// How many records up to `last` carry vendor seq `line`, counted back from
// the end (within LINE_LOOKBACK records).
async function lineRecords(queue: string, last: number, line: number): Promise<number> {
  let reader: QueueReader;
  try {
    reader = await QueueReader.open(queue, { start: { seq: Math.max(1, last - LINE_LOOKBACK) } });
  } catch (error) {
    // Retention deleted the records that far back: from the earliest.
    if (!(error instanceof RangeError)) throw error;
    reader = await QueueReader.open(queue, { start: "earliest" });
  }
  using _ = reader;
  const e = new BookEvent();
  let run = 0;
  for (let m = reader.next(); m !== undefined && m.seq <= last; m = reader.next()) {
    let same = false;
    try {
      same = e.wrap(m) && e.vendorSeq === line;
    } catch {
      // Not a book event of the import.
    }
    run = same ? run + 1 : 0;
  }
  return run;
}

/**
 * The formats whose imports write a book event of `kind` with `flags`:
 * LOBSTER writes order events, its corrections are Level events flagged
 * Correction, and its Instrument and Clear open a batch; a Tardis book
 * import writes Level events and snapshot Clears, a trades import Trades,
 * and both flag an Instrument as a batch of its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatsWriting } from "./queue_continuation.ts";
 * import { BOOK_FLAG, BOOK_KIND } from "../book/book_protocol.ts";
 * assert.deepEqual(formatsWriting(BOOK_KIND.Level, BOOK_FLAG.Correction), ["lobster"]);
 * assert.deepEqual(formatsWriting(BOOK_KIND.Level, BOOK_FLAG.BatchEnd), ["tardis-book"]);
 * assert.deepEqual(formatsWriting(BOOK_KIND.Instrument, BOOK_FLAG.BatchEnd), ["tardis-book", "tardis-trades"]);
 * ```
 */
export function formatsWriting(kind: number, flags: number): readonly VendorFormat[] {
  switch (kind) {
    case BOOK_KIND.Instrument:
      return (flags & BOOK_FLAG.BatchEnd) !== 0 ? ["tardis-book", "tardis-trades"] : ["lobster"];
    case BOOK_KIND.Clear:
      return (flags & BOOK_FLAG.SnapshotBegin) !== 0 ? ["tardis-book"] : ["lobster"];
    case BOOK_KIND.Level:
      return (flags & BOOK_FLAG.Correction) !== 0 ? ["lobster"] : ["tardis-book"];
    case BOOK_KIND.Trade:
      return ["tardis-trades"];
    default:
      return ["lobster"];
  }
}

function lineRange(from: number, to: number): string {
  return from === to ? `line ${from}` : `lines ${from}..${to}`;
}

/**
 * Checks that an import of `format` into `queue` continues it, and returns
 * the check of the input's first record (for `importRecords`'
 * `beforeFirst`). With `fromLine` (a resume) the queue must be empty, or
 * end with an event of a `format` import whose vendor seq is
 * `fromLine - 1`. Without it (a whole import, such as a second day) the
 * input's first record must be stamped after the queue's last.
 *
 * @throws {QueueContinuityError} when a resume does not follow the queue,
 *   naming its last line and the `--from-line` that does; the returned
 *   check throws it when the input starts at or before the queue's end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkContinuation } from "./queue_continuation.ts";
 * import { BookEventEncoder } from "../book/book_event_encoder.ts";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(`${dir}/q`);
 * const enc = new BookEventEncoder();
 * enc.header.vendorSeq = 999;
 * enc.header.flags = 4; // BatchEnd: line 999 is whole
 * const add = enc.order(3, 0, 1, 100, 5); // an OrderAdd of line 999
 * w.append(enc.typeId, add, 100n);
 * w.close();
 * await assert.rejects(checkContinuation(`${dir}/q`, "lobster", 995), {
 *   name: "QueueContinuityError",
 *   message: `Queue '${dir}/q' already holds line 999 of the input (the vendor seq of its last event): ` +
 *     "'--from-line 995' would import lines 995..999 again; resume with '--from-line 1000'",
 * });
 * await checkContinuation(`${dir}/q`, "lobster", 1000); // follows on
 * const first = await checkContinuation(`${dir}/q`, "lobster", undefined);
 * assert.throws(() => first({ line: 1, bytesRead: 0, seq: undefined, timestampNs: 100n, typeId: 0, payload: new Uint8Array(1) }),
 *   /already holds records up to 1970-01-01T00:00:00.000000100Z/);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function checkContinuation(
  queue: string,
  format: VendorFormat,
  fromLine: number | undefined,
): Promise<(first: ImportRecord) => void> {
  const end = await readQueueEnd(queue);
  const none = () => {};
  if (end === undefined) return none;
  const event = end.event;
  const last = event !== undefined && formatsWriting(event.kind, event.flags).includes(format)
    ? event.vendorSeq
    : undefined;
  const named = `Queue '${queue}'`;
  const partial = format === "lobster" ? end.partialLine : undefined;
  if (fromLine !== undefined) {
    if (partial !== undefined && last !== undefined) {
      // Stopped inside line `last`'s batch: that line goes again, its
      // records already there are skipped (see `partialLineRecords`).
      if (fromLine === last) return none;
      throw new QueueContinuityError(
        queue,
        `${named} ends inside the batch of line ${last} of the input (${partial.records} of its records are there): resume with '--from-line ${last}', which writes the rest of it`,
        { lastLine: last - 1, resumeLine: last },
      );
    }
    if (last === fromLine - 1) return none;
    const newQueue =
      "'--from-line' resumes an import in the queue it stopped in; import into a new queue";
    if (event === undefined) {
      throw new QueueContinuityError(
        queue,
        `${named} ends with a record of type ${end.typeId}, not a book event: ${newQueue}`,
      );
    }
    if (last === undefined) {
      throw new QueueContinuityError(
        queue,
        `${named} ends with a ${
          BOOK_KIND_NAMES[event.kind]
        } event that a '${format}' import does not write (vendor seq ${event.vendorSeq}): ${newQueue}`,
        { lastLine: event.vendorSeq },
      );
    }
    const source = `line ${last} of the input (the vendor seq of its last event)`;
    const wrong = fromLine <= last
      ? `${named} already holds ${source}: '--from-line ${fromLine}' would import ${
        lineRange(fromLine, last)
      } again`
      : `${named} ends at ${source}: '--from-line ${fromLine}' would leave out ${
        lineRange(last + 1, fromLine - 1)
      }`;
    throw new QueueContinuityError(queue, `${wrong}; resume with '--from-line ${last + 1}'`, {
      lastLine: last,
      resumeLine: last + 1,
    });
  }
  return (first) => {
    const ts = first.timestampNs;
    if (ts === undefined || ts > end.timestampNs) return;
    const resume = last === undefined
      ? ""
      : `, or resume the import that stopped after line ${last} with '--from-line ${last + 1}'`;
    throw new QueueContinuityError(
      queue,
      `${named} already holds records up to ${isoTimeNs(end.timestampNs)} and the input starts at ${
        isoTimeNs(ts)
      }: import it into a new queue${resume}`,
      { lastLine: last, resumeLine: last === undefined ? undefined : last + 1 },
    );
  };
}

/**
 * How many records of the input line a LOBSTER resume at `fromLine` starts
 * with are already in `queue`: an import stopped inside that line's batch
 * wrote the first of them, and the resume writes only the rest. 0 when the
 * queue ends at a batch boundary.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partialLineRecords } from "./queue_continuation.ts";
 * assert.equal(await partialLineRecords("/nonexistent/queue", 5), 0);
 * ```
 */
export async function partialLineRecords(queue: string, fromLine: number): Promise<number> {
  const partial = (await readQueueEnd(queue))?.partialLine;
  return partial !== undefined && partial.line === fromLine ? partial.records : 0;
}
