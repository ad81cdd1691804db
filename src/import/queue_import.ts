/**
 * The heart of every import: appends records to a queue in input order,
 * checking that seqs continue the queue with no gap and counting timestamps
 * that go back. The input formats (JSON lines, tapes) turn their input into
 * {@linkcode ImportRecord}s and hand them here.
 *
 * @module
 */

import { type QueueDurability, queueExists, QueueWriter, realtimeNs } from "../chronicle/mod.ts";
import { type SealedLocation, SealedWriter } from "../sealed/mod.ts";
import {
  checkTargetOptions,
  queueRecordTarget,
  type RecordTarget,
  sealedRecordTarget,
  type TargetLocation,
} from "../stream/mod.ts";
import { ImportError, InputFileError, InputLineError, QueueOpenError } from "./import_error.ts";
import { errorMessage, ioMessage, ioReason, isDiskFull, isOsError } from "../tape/mod.ts";
import type { ImportSummary } from "./import_summary.ts";
import { type SnapshotPlan, SnapshotTaker } from "../book/mod.ts";
import { openJetStreamTarget } from "../nats/jetstream_target.ts";
import { isNatsLocation, type NatsLocation, redactNatsUrl } from "../nats/nats_location.ts";

/** One record of the input, with where it came from. */
export interface ImportRecord {
  /** 1-based line of the input the record is on. */
  line: number;
  /** Input bytes read up to and including this record, for progress. */
  bytesRead: number;
  /** The record's seq, when the input carries one. */
  seq: number | undefined;
  /** Nanoseconds since the epoch; the writer's clock when undefined. */
  timestampNs: bigint | undefined;
  /** Type id, 0 to 65535. */
  typeId: number;
  /** The payload; the queue refuses an empty one. */
  payload: Uint8Array;
  /**
   * False for a record that is not the last of its input line (a line
   * that makes several records): an import stopped after it resumes at
   * that line, not the next. Absent means true.
   */
  lineEnds?: boolean;
}

/** How far an import has got; see {@linkcode ImportOptions.onProgress}. */
export interface ImportProgress {
  /** Records appended so far. */
  records: number;
  /** Records skipped so far (`skipExisting`). */
  skipped: number;
  /** Input bytes read so far. */
  bytesRead: number;
}

/** Options of an import. */
export interface ImportOptions {
  /**
   * The queue directory, created when missing with the input's first seq
   * as its first; a sealed store, `sealed:DIR` or `sqlite:FILE[#stream]`,
   * which needs `recipients`; or a JetStream stream `nats://HOST:PORT/STREAM`,
   * created when missing, whose first record may have any seq.
   */
  to: string;
  /** X25519 public keys a sealed store is sealed to. */
  recipients?: Uint8Array[];
  /** Replicas of a JetStream stream created now; default 1. */
  replicas?: number;
  /** How long a JetStream stream is retried after its server is lost; default 60 s. */
  retryForMs?: number;
  /** How messages name the input: a path, or `stdin`. Default `input`. */
  source?: string;
  /**
   * Leave out input records whose seq the queue already has (at most its
   * last seq), so an interrupted import can be run again on the whole input.
   */
  skipExisting?: boolean;
  /** A timestamp earlier than the one before is an error instead of being counted. */
  strictOrder?: boolean;
  /** Durability profile of the writer; `ipc` by default. The queue is synced at the end either way. */
  durability?: QueueDurability;
  /** Told how far the import has got, every so many records and once at the end. */
  onProgress?: (progress: ImportProgress) => void;
  /**
   * The option a stopped import is resumed with, given the first line not
   * imported (`--from-line`), for inputs read whole again on a resume;
   * by default the message says to re-run on the lines from there on.
   */
  resumeOption?: string;
  /**
   * Write book snapshots beside the queue as book events are appended
   * (`docs/snapshots.md`). A queue that already holds records has its
   * books rebuilt first, from its own latest snapshot. A snapshot that
   * cannot be written stops the import as a fault of the queue's.
   */
  snapshotEvery?: SnapshotPlan;
  /** Told how the snapshots' books were rebuilt, and of snapshots passed over. */
  log?: (line: string) => void;
  /**
   * Told of the first record before the queue is opened for writing; a
   * throw stops the import with nothing written and is thrown as it is (a
   * market-data import refuses input that does not start after the
   * queue's last record this way).
   */
  beforeFirst?: (record: ImportRecord) => void;
  /**
   * Leave out the input's first this many records: the queue already
   * holds them (a resume inside an input line whose batch was cut short).
   * Counted as skipped.
   */
  skipFirst?: number;
  /**
   * Permission bits of the files the import creates, in the queue and in
   * its snapshot directory (`QueueWriterOptions.mode`); default those of
   * the queue's files, or 0640 for a new queue.
   */
  mode?: number;
}

// Progress is cheap but not free: one report per this many records.
const PROGRESS_EVERY = 1024;

function seqStep(seq: number, previous: number): string {
  if (seq > previous + 1) {
    const missing = seq === previous + 2
      ? `seq ${previous + 1} is missing`
      : `seqs ${previous + 1}..${seq - 1} are missing`;
    return `Seq ${seq} follows seq ${previous}: ${missing}`;
  }
  const how = seq === previous ? "repeats it" : "steps back";
  return `Seq ${seq} follows seq ${previous}: seqs must go up by one, this one ${how}`;
}

function queueMismatch(queue: string, lastSeq: number, seq: number): string {
  const what = isNatsLocation(queue) ? "JetStream stream" : "Queue";
  const ends = `${what} '${queue}' ends at seq ${lastSeq} but the input starts at seq ${seq}`;
  if (seq <= lastSeq) {
    return `${ends}: re-run with '--skip-existing' to leave out the records it has`;
  }
  const missing = seq === lastSeq + 2
    ? `seq ${lastSeq + 1} is`
    : `seqs ${lastSeq + 1}..${seq - 1} are`;
  return `${ends}: ${missing} missing`;
}

/**
 * Appends `records` to the queue `options.to`, in order, and returns what
 * was done. The queue is synced to disk before this returns.
 *
 * - Seqs: records either all carry a seq or none do. Seqs go up by one
 *   from record to record. A new queue starts at the first record's seq;
 *   an existing one must continue at the input's first seq (or, with
 *   `skipExisting`, the records it already has are left out). Without
 *   seqs, records are appended after whatever the queue holds.
 * - Timestamps: a record without one gets the clock's; one earlier than the
 *   record before is counted in {@linkcode ImportSummary.backwardTimestamps}
 *   (an error with `strictOrder`).
 *
 * On a fault part way, every record appended before it stays in the queue
 * and an {@linkcode ImportError} says how many and how to resume. Faults
 * before anything is written (a directory that is not a queue, a queue
 * locked by another writer, an unreadable input) are thrown as they are.
 *
 * @throws {ImportError} for a bad record, or any fault once the queue is open.
 * @throws {QueueFormatError} when `options.to` is not a queue.
 * @throws {QueueLockedError} when another process writes the queue.
 *
 * @example Import three records into a new queue starting at seq 5
 * ```ts
 * import assert from "node:assert/strict";
 * import { importRecords, type ImportRecord } from "./queue_import.ts";
 * import { QueueReader } from "../chronicle/mod.ts";
 * async function* input(): AsyncIterableIterator<ImportRecord> {
 *   for (const seq of [5, 6, 7]) {
 *     const payload = new TextEncoder().encode(`tick ${seq}`);
 *     yield { line: seq - 4, bytesRead: 0, seq, timestampNs: BigInt(seq), typeId: 1, payload };
 *   }
 * }
 * const dir = Deno.makeTempDirSync();
 * const summary = await importRecords(input(), { to: `${dir}/q` });
 * assert.equal(summary.records, 3);
 * assert.deepEqual(summary.seqs, { first: 5, last: 7 });
 * const r = await QueueReader.open(`${dir}/q`, { start: "earliest" });
 * assert.equal(r.next()?.seq, 5);
 * r.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function importRecords(
  records: AsyncIterable<ImportRecord>,
  options: ImportOptions,
): Promise<ImportSummary> {
  const started = performance.now();
  const target = checkImportTarget(options);
  // Messages name a JetStream stream without its password or token.
  const queue = target.kind === "jetstream" ? redactNatsUrl(options.to) : options.to;
  const source = options.source ?? "input";
  const skipExisting = options.skipExisting ?? false;
  // A directory that is not a queue is refused before any input is read.
  if (target.kind === "queue") openingQueue(queue, () => queueExists(queue));
  let writer: RecordTarget | undefined;
  let snapshots: SnapshotTaker | undefined;
  let toSkip = options.skipFirst ?? 0;
  let withSeqs: boolean | undefined;
  let previousSeq: number | undefined;
  let previousTs: bigint | undefined;
  let imported = 0;
  let skipped = 0;
  let backward = 0;
  let bytesRead = 0;
  let lastImportedLine = 0;
  let lastLineDone = true;
  // Records a sealed store or a JetStream stream holds but has not yet made
  // durable, with their lines: a store that fails loses them, and the error
  // must say so.
  const notDurable: { seq: number; line: number }[] = [];
  let seqs: { first: number; last: number } | undefined;
  const report = () => options.onProgress?.({ records: imported, skipped, bytesRead });
  try {
    for await (const record of records) {
      const { line, seq } = record;
      bytesRead = record.bytesRead;
      if (withSeqs === undefined) {
        withSeqs = seq !== undefined;
        if (!withSeqs && skipExisting) {
          throw new InputLineError(
            "Record has no 'seq', so '--skip-existing' cannot tell which records the queue has",
            line,
          );
        }
      } else if (withSeqs !== (seq !== undefined)) {
        throw new InputLineError(
          withSeqs
            ? "Record has no 'seq' but the records before it have one: give every record a 'seq' or none"
            : "Record has a 'seq' but the records before it have none: give every record a 'seq' or none",
          line,
        );
      }
      if (seq !== undefined && previousSeq !== undefined && seq !== previousSeq + 1) {
        throw new InputLineError(seqStep(seq, previousSeq), line);
      }
      previousSeq = seq;
      if (record.payload.length === 0) {
        throw new InputLineError(
          "Payload is empty: the queue refuses empty payloads (a record carries at least one byte)",
          line,
        );
      }
      if (toSkip > 0) {
        toSkip--;
        skipped++;
        continue;
      }
      if (writer === undefined) {
        options.beforeFirst?.(record);
        if (options.snapshotEvery !== undefined) {
          snapshots = await snapshotTaker(queue, options.snapshotEvery, options);
        }
        writer = target.kind === "queue"
          ? queueRecordTarget(
            await openingQueue(queue, () =>
              QueueWriter.open(queue, {
                ...(seq === undefined ? {} : { firstSeq: seq }),
                ...(options.durability === undefined ? {} : { durability: options.durability }),
                ...(options.mode === undefined ? {} : { mode: options.mode }),
              })),
          )
          : target.kind === "sealed"
          ? await openSealed(target.sealed, options.recipients!, seq)
          : await openJetStream(target.nats, options);
        // An empty JetStream stream has no first seq of its own: it starts at the input's.
        const empty = target.kind === "jetstream" && writer.lastSeq === 0;
        if (seq !== undefined && !empty) {
          const next = writer.lastSeq + 1;
          if (seq > next || (seq < next && !skipExisting)) {
            throw new InputLineError(queueMismatch(queue, writer.lastSeq, seq), line);
          }
        }
      }
      if (seq !== undefined && seq <= writer.lastSeq) {
        // Only reached with skipExisting: the check above refused it otherwise.
        skipped++;
        previousTs = record.timestampNs ?? previousTs;
      } else {
        const ts = record.timestampNs ?? realtimeNs();
        if (previousTs !== undefined && ts < previousTs) {
          if (options.strictOrder) {
            throw new InputLineError(
              `Timestamp ${ts} is earlier than ${previousTs} of the record before ('--strict-order')`,
              line,
            );
          }
          backward++;
        }
        previousTs = ts;
        let appended: number;
        try {
          if (seq !== undefined && writer.lastSeq === 0) {
            // An empty target starts at the record copied into it.
            writer.appendCopy({
              seq,
              timestampNs: ts,
              typeId: record.typeId,
              payload: record.payload,
            });
            appended = seq;
          } else {
            appended = writer.append(record.typeId, record.payload, ts);
          }
        } catch (error) {
          // A record the queue refuses (too large for a segment) is the input's fault.
          if (error instanceof RangeError) {
            throw new InputLineError(error.message, line, { cause: error });
          }
          throw error;
        }
        imported++;
        lastImportedLine = line;
        lastLineDone = record.lineEnds !== false;
        if (target.kind !== "queue") notDurable.push({ seq: appended, line });
        snapshots?.observeMessage({
          seq: appended,
          timestampNs: ts,
          typeId: record.typeId,
          payload: record.payload,
        });
        seqs = { first: seqs?.first ?? appended, last: appended };
        // A sealed store's ciphers and disk, or a stream's unacked window, bound what it holds.
        if (writer.full) await writer.ready();
      }
      if ((imported + skipped) % PROGRESS_EVERY === 0) {
        report();
        // A sealed store's ciphers take what they can; the import waits for them.
        await writer?.ready();
        if (writer !== undefined) forgetDurable(notDurable, writer.durableSeq);
      }
    }
    await writer?.sync();
  } catch (error) {
    try {
      await writer?.sync();
    } catch {
      // The first fault is the one to report.
    }
    try {
      await writer?.abort();
    } catch {
      // As above.
    }
    if (!(error instanceof InputLineError) && writer === undefined) throw error;
    forgetDurable(notDurable, writer?.durableSeq ?? 0);
    const lost = notDurable[0];
    if (lost !== undefined) {
      // The store failed before it made these durable: they are not imported.
      imported -= notDurable.length;
      seqs = seqs === undefined || lost.seq === seqs.first
        ? undefined
        : { first: seqs.first, last: lost.seq - 1 };
      lastImportedLine = lost.line;
      lastLineDone = false;
    }
    const inputFault = error instanceof InputLineError || error instanceof InputFileError;
    throw new ImportError(isOsError(error) ? ioMessage(error) : errorMessage(error), {
      source,
      queue,
      line: error instanceof InputLineError ? error.line : undefined,
      imported,
      seqs,
      seqsInInput: withSeqs ?? false,
      resumeLine: lastLineDone ? lastImportedLine + 1 : lastImportedLine,
      ...(options.resumeOption === undefined ? {} : { resumeOption: options.resumeOption }),
      fault: inputFault ? "input" : isDiskFull(error) ? "disk-full" : "queue",
    }, { cause: error });
  }
  await writer?.close();
  report();
  return {
    queue,
    records: imported,
    skipped,
    seqs,
    backwardTimestamps: backward,
    elapsedMs: performance.now() - started,
  };
}

// Drops the records up to `durableSeq` from the front of `records`.
function forgetDurable(records: { seq: number }[], durableSeq: number): void {
  let n = 0;
  while (n < records.length && records[n]!.seq <= durableSeq) n++;
  if (n > 0) records.splice(0, n);
}

/**
 * Runs a step that opens the queue; the file system's own error (a missing
 * parent, no permission, a full disk) becomes a {@linkcode QueueOpenError}
 * naming the queue. The chronicle's errors pass as they are.
 */
function openingQueue<T>(queue: string, open: () => T): T {
  const wrap = (error: unknown): never => {
    if (isOsError(error)) throw new QueueOpenError(queue, ioReason(error), { cause: error });
    throw error;
  };
  try {
    const result = open();
    return (result instanceof Promise ? result.catch(wrap) : result) as T;
  } catch (error) {
    return wrap(error);
  }
}

/**
 * Checks that `options.to` can take the import before any input is read
 * ({@linkcode checkTargetOptions}), and says what it names.
 *
 * @throws {TypeError} naming the option that does not fit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkImportTarget } from "./queue_import.ts";
 * assert.throws(() => checkImportTarget({ to: "sealed:/s" }), { message: /give at least one recipient/ });
 * assert.equal(checkImportTarget({ to: "./q" }).kind, "queue");
 * assert.equal(checkImportTarget({ to: "nats://127.0.0.1:4222/S", replicas: 3 }).kind, "jetstream");
 * ```
 */
export function checkImportTarget(options: ImportOptions): TargetLocation {
  return checkTargetOptions(options.to, options);
}

// A stream holding nothing yet starts at the input's first seq, as a new
// queue does: its first record is copied with its seq.
function openJetStream(location: NatsLocation, options: ImportOptions): Promise<RecordTarget> {
  const { replicas, retryForMs, log } = options;
  return openJetStreamTarget(location, {
    // Every import of a stream names its records alike, so a re-run after a
    // crash is deduplicated by the server as a tap's restart is.
    liveStreamId: `import:${location.stream}`,
    ...(replicas === undefined ? {} : { replicas }),
    ...(retryForMs === undefined ? {} : { retryForMs }),
    ...(log === undefined ? {} : { onNotice: log }),
  });
}

// A store holding nothing yet starts at the input's first seq, as a new queue does.
async function openSealed(
  location: SealedLocation,
  recipients: Uint8Array[],
  firstSeq: number | undefined,
): Promise<RecordTarget> {
  const path = location.kind === "file" ? location.dir : location.stream ?? location.file;
  const name = path.replace(/\/+$/, "").split("/").at(-1) || "stream";
  const writer = await SealedWriter.open(location, {
    recipients,
    stream: name,
    producer: "spool import",
  });
  return sealedRecordTarget(writer, firstSeq ?? 1);
}

// Taken before the writer opens: a queue not there yet starts with empty books.
async function snapshotTaker(
  queue: string,
  plan: SnapshotPlan,
  { log, mode }: ImportOptions,
): Promise<SnapshotTaker> {
  const { taker, description } = await SnapshotTaker.forQueue(queue, plan, {
    ...(log === undefined ? {} : { onWarning: log }),
    ...(mode === undefined ? {} : { mode }),
  });
  if (description !== undefined) log?.(description);
  return taker;
}
