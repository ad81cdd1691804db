/**
 * Warm start: the books at a seq or a time, from the latest valid snapshots
 * before it and the queue's records after them, with exactly the result a
 * replay from the queue's start would give.
 *
 * @module
 */

import { QueueReader, type WaitStrategy } from "../chronicle/mod.ts";
import { QueueStream, type StreamReader } from "../stream/mod.ts";
import { reportWarning } from "../tape/warning_log.ts";
import { BookEvent } from "./book_event.ts";
import { BookSet } from "./book_set.ts";
import { recordChecksum, type SnapshotFile } from "./snapshot_file.ts";
import { type SnapshotRef, SnapshotStore } from "./snapshot_store.ts";

/**
 * Where a warm start brings the books: after the record with seq `seq`;
 * after every record before the first stamped at or after `timestampNs`
 * (where `QueueReader.seek({ timestampNs })` puts a reader); or after the
 * queue's last record.
 */
export type WarmStartTarget = { seq: number } | { timestampNs: bigint | number } | "end";

/** Options of {@linkcode warmStart}. */
export interface WarmStartOptions {
  /** The snapshots; default the queue's own ({@linkcode SnapshotStore.forQueue}). */
  store?: SnapshotStore;
  /** Told of each snapshot passed over and of an incomplete cold start; default `reportWarning`. */
  onWarning?: (message: string) => void;
  /** Whether the returned stream waits for more records at the end. */
  follow?: boolean;
  /** Ends the returned stream's following. */
  signal?: AbortSignal;
  /** How the returned stream waits. */
  waitStrategy?: WaitStrategy;
}

/** What {@linkcode warmStart} did. */
export interface WarmStart {
  /** The books after record `nextSeq - 1`. */
  books: BookSet;
  /** The queue, positioned so its next message is record `nextSeq`. The caller closes it. */
  stream: StreamReader;
  /** Seq of the next record the stream hands out. */
  nextSeq: number;
  /** The snapshots restored (none for a cold start), by venue and market. */
  snapshots: SnapshotRef[];
  /** The seq after which the queue was read (0, or the earliest seq less one, for a cold start). */
  fromSeq: number;
  /** Records read from the queue to reach the target. */
  replayed: number;
  /**
   * The last book event the books hold (from the queue or a snapshot):
   * what a row of them is stamped with; undefined when they hold none.
   */
  lastEvent: { seq: number; timestampNs: bigint } | undefined;
  /** One line for stderr: which snapshots were used, or why none was. */
  description: string;
}

interface Choice {
  seq: number;
  file?: SnapshotFile;
}

/**
 * Builds the books of the queue in `queueDir` as they are at `target`.
 *
 * For each market it restores the latest snapshot at or before the target
 * that is valid: its file checks, and the queue's record at its seq still
 * has the timestamp and payload checksum it was taken after. It then reads
 * the queue from the earliest of those seqs, applying each market's events
 * from after its own snapshot, up to the target. A damaged or mismatched
 * snapshot is passed over, with a warning, for an earlier one of the same
 * market; a market with none left is rebuilt from the queue's start
 * (`docs/snapshots.md`, "Warm start", says how the markets a set must hold
 * are known). The books are always the ones a replay from the queue's
 * start gives; only the work differs.
 *
 * @throws {RangeError} when the target seq is before the queue's earliest record less one.
 * @throws {QueueFormatError} when `queueDir` is not a queue.
 * @throws {BookEventError} at a record that claims to be a book event but is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { BookEventEncoder, SIDE } from "./mod.ts";
 * import { warmStart } from "./warm_start.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(`${dir}/q`, { segmentBytes: 1 << 16 });
 * const enc = new BookEventEncoder();
 * enc.header.flags = 4; // BatchEnd
 * for (const price of [100, 101, 102]) {
 *   const bytes = enc.level(SIDE.Bid, price, 5);
 *   w.append(enc.typeId, bytes);
 * }
 * const start = await warmStart(`${dir}/q`, { seq: 2 }, { onWarning: () => {} });
 * assert.equal(start.books.book(0, 0)?.bestBid(), 101);
 * assert.equal(start.stream.next()?.seq, 3);
 * start.stream.close();
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function warmStart(
  queueDir: string,
  target: WarmStartTarget,
  options: WarmStartOptions = {},
): Promise<WarmStart> {
  const store = options.store ?? SnapshotStore.forQueue(queueDir);
  const warn = options.onWarning ?? reportWarning;
  const probe = await QueueReader.open(queueDir, { start: "earliest" });
  let earliest: number;
  let to: number;
  let choices: Map<number, Choice>;
  try {
    earliest = probe.nextSeq;
    to = await resolveTarget(queueDir, probe, target, earliest);
    choices = choose(store, probe, earliest, to, warn);
  } finally {
    probe.close();
  }

  const books = new BookSet();
  const snapshots: SnapshotRef[] = [];
  let fromSeq = to;
  for (const choice of choices.values()) {
    fromSeq = Math.min(fromSeq, choice.seq);
    if (choice.file === undefined) continue;
    choice.file.forEachEvent((e) => books.apply(e));
    const h = choice.file.header;
    snapshots.push({ venue: h.venue, market: h.market, seq: h.seq, path: choice.file.path });
  }
  snapshots.sort((a, b) => a.venue - b.venue || a.market - b.market);
  if (snapshots.length === 0) fromSeq = earliest - 1;
  if (snapshots.length === 0 && earliest > 1) {
    warn(
      `Queue '${queueDir}' no longer holds its records before seq ${earliest} and no snapshot ` +
        `covers them: books are rebuilt from seq ${earliest} and may lack orders placed before`,
    );
  }

  const stream = await QueueStream.open(queueDir, {
    start: { seq: fromSeq + 1 },
    ...(options.follow === undefined ? {} : { follow: options.follow }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.waitStrategy === undefined ? {} : { waitStrategy: options.waitStrategy }),
  });
  let replayed = 0;
  let lastEvent: { seq: number; timestampNs: bigint } | undefined;
  for (const choice of choices.values()) {
    const file = choice.file;
    if (file !== undefined && (lastEvent === undefined || choice.seq > lastEvent.seq)) {
      lastEvent = { seq: choice.seq, timestampNs: file.header.timestampNs };
    }
  }
  try {
    const rolled = await rollForward(stream, books, choices, fromSeq, to, queueDir);
    replayed = rolled.replayed;
    // Markets start from different snapshots: the latest event of any of them stamps the books.
    const rolledLast = rolled.lastEvent;
    if (rolledLast !== undefined && (lastEvent === undefined || rolledLast.seq > lastEvent.seq)) {
      lastEvent = rolledLast;
    }
  } catch (error) {
    stream.close();
    throw error;
  }
  return {
    books,
    stream,
    nextSeq: to + 1,
    snapshots,
    fromSeq,
    replayed,
    lastEvent,
    description: describe(store, snapshots, fromSeq, to, replayed),
  };
}

// The seq the books are wanted after.
async function resolveTarget(
  queueDir: string,
  probe: QueueReader,
  target: WarmStartTarget,
  earliest: number,
): Promise<number> {
  if (target !== "end" && "timestampNs" in target) {
    probe.seek({ timestampNs: target.timestampNs });
    return probe.nextSeq - 1;
  }
  if (target !== "end" && !(Number.isSafeInteger(target.seq) && target.seq >= 0)) {
    throw new RangeError(`Warm start seq '${target.seq}' must be a whole number`);
  }
  if (target !== "end" && target.seq < earliest - 1) {
    throw new RangeError(
      `Seq ${target.seq} is no longer in queue '${queueDir}': the earliest is ${earliest}`,
    );
  }
  using latest = await QueueReader.open(queueDir, { start: "latest" });
  const end = latest.nextSeq - 1;
  return target === "end" ? end : Math.min(target.seq, end);
}

/**
 * The snapshot (or the empty book) each market starts from, by market key.
 * Markets absent from the result have no event at or before the highest
 * complete set's seq, or there is no complete set and all start cold.
 */
function choose(
  store: SnapshotStore,
  probe: QueueReader,
  earliest: number,
  to: number,
  warn: (message: string) => void,
): Map<number, Choice> {
  const bySeq = new Map<number, SnapshotRef[]>();
  for (const ref of store.list()) {
    if (ref.seq < earliest || ref.seq > to) continue;
    const at = bySeq.get(ref.seq);
    if (at === undefined) bySeq.set(ref.seq, [ref]);
    else at.push(ref);
  }
  const seqs = [...bySeq.keys()].sort((a, b) => b - a);
  const valid = validity(store, probe, warn);
  // A set is complete when its files name every market its headers count.
  const complete = (seq: number): boolean => {
    const refs = bySeq.get(seq)!;
    let count = 0;
    for (const ref of refs) {
      const file = valid(ref);
      if (file !== undefined) count = Math.max(count, file.header.marketCount);
    }
    return count > 0 && refs.length >= count;
  };

  const choices = new Map<number, Choice>();
  const top = seqs.findIndex((seq) => {
    if (complete(seq)) return true;
    if (bySeq.get(seq)!.some((ref) => valid(ref) !== undefined)) {
      warn(
        `Snapshots at seq ${seq} in '${store.root}' lack some markets' files; using earlier ones`,
      );
    }
    return false;
  });
  if (top === -1) return choices;
  const pending: SnapshotRef[] = [];
  for (const ref of bySeq.get(seqs[top]!)!) {
    const file = valid(ref);
    if (file === undefined) pending.push(ref);
    else choices.set(marketKey(ref.venue, ref.market), { seq: ref.seq, file });
  }
  for (const want of pending) {
    const key = marketKey(want.venue, want.market);
    let choice: Choice | undefined;
    for (let i = top + 1; i < seqs.length && choice === undefined; i++) {
      const seq = seqs[i]!;
      const ref = bySeq.get(seq)!.find((r) => r.venue === want.venue && r.market === want.market);
      if (ref !== undefined) {
        const file = valid(ref);
        if (file !== undefined) choice = { seq, file };
      } else if (complete(seq)) {
        choice = { seq }; // the market had no event yet at this set's seq
      }
    }
    if (choice === undefined) {
      choice = { seq: earliest - 1 };
      if (earliest > 1) {
        warn(
          `Market ${want.venue}:${want.market} has no usable snapshot and queue '${probe.path}' ` +
            `no longer holds its records before seq ${earliest}: its book may lack orders placed before`,
        );
      }
    }
    choices.set(key, choice);
  }
  return choices;
}

// Reads each snapshot once, checks it against the queue's record at its
// seq (once per seq), and warns once about each one passed over.
function validity(
  store: SnapshotStore,
  probe: QueueReader,
  warn: (message: string) => void,
): (ref: SnapshotRef) => SnapshotFile | undefined {
  const files = new Map<string, SnapshotFile | undefined>();
  const anchors = new Map<number, { timestampNs: bigint; crc: number } | undefined>();
  const anchor = (seq: number) => {
    if (!anchors.has(seq)) {
      probe.seek({ seq });
      const m = probe.next();
      anchors.set(
        seq,
        m === undefined
          ? undefined
          : { timestampNs: m.timestampNs, crc: recordChecksum(m.payload) },
      );
    }
    return anchors.get(seq);
  };
  return (ref) => {
    if (files.has(ref.path)) return files.get(ref.path);
    let file: SnapshotFile | undefined;
    const read = store.tryRead(ref);
    if (typeof read === "string") {
      warn(`${read}; using an earlier snapshot`);
    } else {
      const record = anchor(ref.seq);
      if (
        record !== undefined && record.timestampNs === read.header.timestampNs &&
        record.crc === read.header.recordCrc
      ) {
        file = read;
      } else {
        warn(
          `Snapshot '${ref.path}' was not taken from this queue's record at seq ${ref.seq} ` +
            `(its timestamp or checksum differs); using an earlier snapshot`,
        );
      }
    }
    files.set(ref.path, file);
    return file;
  };
}

// Reads records fromSeq+1 to `to`, applying each market's book events
// after its own snapshot's seq; returns how many records it read and the
// last book event applied.
async function rollForward(
  stream: StreamReader,
  books: BookSet,
  choices: Map<number, Choice>,
  fromSeq: number,
  to: number,
  queueDir: string,
): Promise<{ replayed: number; lastEvent: { seq: number; timestampNs: bigint } | undefined }> {
  let skipTo = fromSeq;
  for (const choice of choices.values()) skipTo = Math.max(skipTo, choice.seq);
  const e = new BookEvent();
  let next = fromSeq + 1;
  // Only the seq per event: a timestamp is a bigint, made once at the end.
  let lastSeq = 0;
  let lastTs: bigint | undefined;
  while (next <= to) {
    const m = stream.next();
    if (m === undefined || m.seq !== next) {
      throw new RangeError(
        `Seq ${next} is no longer in queue '${queueDir}': retention deleted it during the warm start`,
      );
    }
    next++;
    if (!e.wrap(m)) continue;
    if (m.seq <= skipTo) {
      const own = choices.get(marketKey(e.venue, e.market));
      if (own !== undefined && m.seq <= own.seq) continue;
    }
    books.apply(e);
    lastSeq = m.seq;
    if (next > to) lastTs = m.timestampNs;
  }
  if (lastSeq === 0) return { replayed: to - fromSeq, lastEvent: undefined };
  lastTs ??= await stampOf(queueDir, lastSeq);
  return { replayed: to - fromSeq, lastEvent: { seq: lastSeq, timestampNs: lastTs } };
}

// The timestamp of record `seq`, for the rare books whose last event is
// followed by other records.
async function stampOf(queueDir: string, seq: number): Promise<bigint> {
  const reader = await QueueReader.open(queueDir, { start: { seq } });
  try {
    return reader.next()!.timestampNs;
  } finally {
    reader.close();
  }
}

function describe(
  store: SnapshotStore,
  snapshots: SnapshotRef[],
  fromSeq: number,
  to: number,
  replayed: number,
): string {
  const records = replayed === 0
    ? `no records after it to seq ${to}`
    : `replayed ${replayed} record${replayed === 1 ? "" : "s"} to seq ${to}`;
  if (snapshots.length === 0) {
    return `cold start: no usable snapshot at or before seq ${to} in '${store.root}'; ${records}`;
  }
  const counts = new Map<number, number>();
  for (const s of snapshots) counts.set(s.seq, (counts.get(s.seq) ?? 0) + 1);
  const sets = [...counts].sort((a, b) => b[0] - a[0]).map(([seq, n]) =>
    `seq ${seq} (${n} market${n === 1 ? "" : "s"})`
  );
  return `warm start from the snapshots at ${sets.join(", ")} in '${store.root}'; ` +
    (replayed === 0 ? records : `${records} from seq ${fromSeq + 1}`);
}

function marketKey(venue: number, market: number): number {
  return venue * 0x1_0000_0000 + market;
}
