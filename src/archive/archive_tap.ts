/**
 * The archive tap: copies a live queue into its archive queue, record for
 * record, keeping each record's seq, type id, timestamp and payload.
 *
 * The archive is the record of what was copied. A record is appended to the
 * archive first and the tap's reader on the live queue commits after it, so
 * a tap killed between the two finds, when it starts again, records in the
 * archive past its committed position: it skips them (the archive's last
 * seq decides, not the commit), so nothing is copied twice and nothing is
 * lost. The reader never holds back the live queue's retention; records
 * retention deletes before the tap gets to them are a gap the archive cannot
 * hold, and the tap stops with {@linkcode ArchiveGapError}.
 *
 * @module
 */

import {
  QueueDamageError,
  type QueueMessage,
  QueueReader,
  ReaderOffset,
  turnEventLoop,
} from "../chronicle/mod.ts";
import { queueExists } from "../chronicle/mod.ts";
import { errorMessage } from "../tape/mod.ts";
import { BookEventError, pruneSnapshots, type SnapshotPlan, SnapshotTaker } from "../book/mod.ts";
import { ArchiveAheadError, ArchiveGapError } from "./archive_errors.ts";
import { lastSeqOf, queueSeqRange } from "./live_range.ts";
import { openJetStreamArchive, openQueueTarget, openSealedTarget } from "./archive_target.ts";
import type { RecordTarget } from "../stream/mod.ts";
import {
  type ArchiveStart,
  type ArchiveTapLog,
  type ArchiveTapOptions,
  checkArchiveTapOptions,
  type CheckedTapOptions,
} from "./tap_options.ts";

/** What a tap did, returned when it stops. */
export interface ArchiveTapSummary {
  /** Records copied by this run. */
  copied: number;
  /** Seq of the first record this run copied; undefined when it copied none. */
  firstSeq: number | undefined;
  /** Seq of the last record this run copied; undefined when it copied none. */
  lastSeq: number | undefined;
  /** Seq of the archive's last record; undefined when there is no archive yet. */
  archiveLastSeq: number | undefined;
  /** `drained`: the live queue had no more (`once`); `signal`: the signal aborted. */
  stoppedBy: "drained" | "signal";
}

// The tap's thread blocks in the live queue's futex (QueueReader.waitSync),
// where no signal listener or timer can run. Following or catching up, it
// turns the event loop at least this often, so a stop signal is seen, and
// the archive's sync timer fires, within about this long.
const TURN_EVERY_MS = 50;
// A long catch-up reports its progress this often.
const PROGRESS_EVERY_MS = 1000;

function seqs(first: number, last: number): string {
  return first === last ? `seq ${first}` : `seqs ${first}..${last}`;
}

function count(n: number, what = "record"): string {
  return `${n.toLocaleString("en-US")} ${what}${n === 1 ? "" : "s"}`;
}

/**
 * Copies the live queue `options.live` into the archive `options.archive`
 * until the live queue has no more records (`once`) or `options.signal`
 * aborts, then commits, closes both queues and says what it did.
 *
 * - The archive is created (durable profile) at the first record copied,
 *   numbered from that record's seq, so archive seq equals live seq.
 * - The live reader is the named reader `options.name` (default
 *   `archive-tap`), opened with `holding: false`. Following, it waits on
 *   the tap's thread in the live queue's futex (`QueueReader.waitSync`),
 *   so a record reaches the archive within microseconds of its append; the
 *   event loop turns at least every 50 ms, so `options.signal` stops the
 *   tap within about that long.
 * - On start, live records the archive already holds are skipped. With
 *   `committed`, an archive that ends before the committed position (a
 *   machine crash lost its unsynced end) is filled in again from the live
 *   queue.
 * - Commits come after the archive append: at least every `commitEvery`
 *   records and whenever the tap has caught up.
 *
 * @throws {ArchiveGapError} when the live queue lacks records the archive needs next; every
 *   record before them is archived and committed.
 * @throws {ArchiveAheadError} when the archive holds seqs the live queue never reached.
 * @throws {TypeError} for bad options, or when both locations are one directory.
 * @throws {QueueFormatError} when the live location holds no queue.
 * @throws {QueueLockedError} when another process writes the archive.
 * @throws {FfiUnavailableError} without `--allow-ffi`.
 *
 * @example Copy a queue into a new archive
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueReader, QueueWriter } from "../chronicle/mod.ts";
 * import { archiveTap } from "./archive_tap.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(`${dir}/live`, { segmentBytes: 1 << 16 });
 * for (const word of ["bid", "ask", "trade"]) w.append(7, new TextEncoder().encode(word), 1000n);
 * const summary = await archiveTap({
 *   live: `${dir}/live`,
 *   archive: `${dir}/archive`,
 *   start: "earliest",
 *   once: true,
 *   segmentBytes: 1 << 16,
 * });
 * assert.equal(summary.copied, 3);
 * assert.equal(summary.firstSeq, 1);
 * assert.equal(summary.lastSeq, 3);
 * const r = await QueueReader.open(`${dir}/archive`);
 * const m = r.next()!;
 * assert.equal(m.seq, 1);
 * assert.equal(m.typeId, 7);
 * assert.equal(m.timestampNs, 1000n);
 * assert.equal(new TextDecoder().decode(m.payload), "bid");
 * r.close();
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function archiveTap(options: ArchiveTapOptions): Promise<ArchiveTapSummary> {
  return await new Tap(checkArchiveTapOptions(options), options).run();
}

class Tap {
  readonly #o: CheckedTapOptions;
  readonly #once: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #log: ArchiveTapLog | undefined;
  readonly #segmentBytes: number | undefined;
  readonly #mode: number | undefined;
  readonly #snapshotEvery: SnapshotPlan | undefined;
  readonly #recipients: Uint8Array[];
  readonly #workers: number | undefined;
  readonly #replicas: number | undefined;
  readonly #retryForMs: number | undefined;
  #reader!: QueueReader;
  #writer: RecordTarget | undefined;
  // A sealed store opened at the start that holds no record yet: the first
  // record copied decides where it starts, as for a new archive queue.
  #fresh: RecordTarget | undefined;
  #snapshots: SnapshotTaker | undefined;
  #stoppedWrites: Promise<void> | undefined;
  #snapshotSets = 0;
  #copied = 0;
  // The live reader's committed seq, as this run last set it.
  #committedSeq = 0;
  #firstSeq: number | undefined;
  #caughtUp = false;
  #startedMs = performance.now();
  #lastTurn = performance.now();

  constructor(checked: CheckedTapOptions, options: ArchiveTapOptions) {
    this.#o = checked;
    this.#once = options.once ?? false;
    this.#signal = options.signal;
    this.#log = options.log;
    this.#segmentBytes = options.segmentBytes;
    this.#mode = options.mode;
    this.#snapshotEvery = options.snapshotEvery;
    this.#recipients = options.recipients ?? [];
    this.#workers = options.workers;
    this.#replicas = options.replicas;
    this.#retryForMs = options.retryForMs;
  }

  // "archive queue 'X'", "sealed archive 'sealed:X'" or "JetStream archive
  // 'nats://…'", for the lines told.
  get #archiveName(): string {
    const kind = this.#o.target.kind;
    const what = kind === "queue"
      ? "archive queue"
      : kind === "sealed"
      ? "sealed archive"
      : "JetStream archive";
    return `${what} '${this.#o.archive}'`;
  }

  #info(line: string): void {
    this.#log?.info(line);
  }

  get #aborted(): boolean {
    return this.#signal?.aborted ?? false;
  }

  async run(): Promise<ArchiveTapSummary> {
    const { live, archive, name, start } = this.#o;
    const committed = ReaderOffset.list(live).find((r) => r.name === name)?.committedSeq ?? 0;
    this.#reader = await QueueReader.open(live, {
      name,
      start,
      holding: false,
    });
    let summary: ArchiveTapSummary;
    let synced = true;
    try {
      const at = this.#reader.nextSeq;
      const lost = this.#reader.lostRecords;
      if (this.#o.target.kind !== "queue") {
        const store = await this.#openStore();
        if (store.lastSeq > 0) this.#writer = store;
        else this.#fresh = store;
      } else if (queueExists(archive)) {
        this.#writer = await this.#openArchive(undefined);
      }
      this.#info(await this.#openedLive(at, committed));
      if (this.#snapshotEvery !== undefined) await this.#startSnapshots(this.#snapshotEvery);
      const writer = this.#writer;
      if (writer === undefined) {
        this.#info(
          this.#fresh === undefined
            ? `archive queue '${archive}' is new: it is created (durable) at the first record copied`
            : `${this.#archiveName} holds no record yet: it starts at the first record copied`,
        );
        if (lost > 0) {
          this.#info(
            `the live queue's retention deleted ${seqs(committed + 1, at - 1)} before the tap ` +
              "read them: the new archive starts after them",
          );
        }
      } else {
        this.#info(`opened ${this.#archiveName} ending at seq ${writer.lastSeq}`);
        await this.#lineUp(writer, start);
      }
      const stoppedBy = await this.#copy();
      synced = await this.#syncAtStop(stoppedBy);
      await this.#snapshots?.flush();
      await this.#stoppedWrites;
      this.#commitArchived();
      summary = this.#summary(stoppedBy);
      this.#info(this.#summaryLine(summary, "copied"));
    } catch (error) {
      try {
        this.#commitArchived();
      } catch {
        // The archive's own end decides where the next run resumes.
      }
      if (this.#copied > 0) this.#info(this.#summaryLine(this.#summary("drained"), "stopped"));
      this.#reader.close();
      try {
        await (this.#writer ?? this.#fresh)?.abort();
      } catch {
        // The error that stopped the tap is the one to report.
      }
      throw error;
    }
    this.#reader.close();
    const writer = this.#writer ?? this.#fresh;
    // A target left unsynced takes no close(), which would sync.
    await (synced ? writer?.close() : writer?.abort());
    return summary;
  }

  // Snapshots go on from the archive's books as they stand: a warm start
  // from its own latest snapshot, read to its end.
  async #startSnapshots(plan: SnapshotPlan): Promise<void> {
    const archive = this.#o.archive;
    let started;
    try {
      started = await SnapshotTaker.forQueue(archive, plan, {
        onWarning: (line) => this.#info(line),
        // The copy goes on while the disk takes the files.
        background: true,
        ...(this.#mode === undefined ? {} : { mode: this.#mode }),
      });
    } catch (error) {
      if (!(error instanceof BookEventError)) throw error;
      this.#snapshotsStopped(error);
      return;
    }
    const { taker, description } = started;
    this.#snapshots = taker;
    if (description !== undefined) this.#info(`snapshots: ${description}`);
    if (this.#writer !== undefined) await this.#pruneSnapshots();
  }

  // Archiving is the tap's job; snapshots are for later readers. A record
  // that claims to be a book event but is not one ends the snapshots, not
  // the copy.
  #snapshotsStopped(error: BookEventError): void {
    // A set still being written is whole or absent; it is waited for at the end.
    this.#stoppedWrites = this.#snapshots?.flush().catch((failed) => {
      this.#info(`a snapshot set being written failed: ${errorMessage(failed)}`);
    });
    this.#snapshots = undefined;
    this.#info(
      `snapshots stopped, archiving goes on: ${error.message} in archive '${this.#o.archive}'`,
    );
  }

  // Snapshots older than the archive's earliest record can no longer be used.
  async #pruneSnapshots(): Promise<void> {
    const taker = this.#snapshots;
    if (taker === undefined || this.#writer === undefined) return;
    this.#snapshotSets = taker.sets;
    const gone = await pruneSnapshots(this.#o.archive, taker.store);
    if (gone.length > 0) {
      this.#info(
        `removed ${count(gone.length, "snapshot")} older than the archive's earliest record`,
      );
    }
  }

  #openArchive(firstSeq: number | undefined): Promise<RecordTarget> {
    return openQueueTarget(this.#o.archive, {
      ...(firstSeq === undefined ? {} : { firstSeq }),
      ...(this.#segmentBytes === undefined ? {} : { segmentBytes: this.#segmentBytes }),
      ...(this.#mode === undefined ? {} : { mode: this.#mode }),
    });
  }

  // A sealed store or a JetStream stream: opened at the start, since its
  // last seq is its own to tell.
  #openStore(): Promise<RecordTarget> {
    const live = this.#o.live.replace(/\/queue\/?$/, "").replace(/\/+$/, "");
    // The live stream's name: a sealed run's stream, a JetStream message id's first half.
    const name = live.slice(live.lastIndexOf("/") + 1) || "stream";
    const target = this.#o.target;
    if (target.kind === "jetstream") {
      return openJetStreamArchive(target.nats, {
        liveStreamId: name,
        ...(this.#replicas === undefined ? {} : { replicas: this.#replicas }),
        ...(this.#retryForMs === undefined ? {} : { retryForMs: this.#retryForMs }),
        // A lost server and the stream's fit are told with the tap's lines.
        onNotice: (line) => this.#info(line),
      });
    }
    if (target.kind !== "sealed") {
      throw new TypeError("An archive queue is opened at its first record");
    }
    return openSealedTarget(target.sealed, {
      recipients: this.#recipients,
      stream: name,
      ...(this.#workers === undefined ? {} : { workers: this.#workers }),
      ...(this.#segmentBytes === undefined ? {} : { segmentBytes: this.#segmentBytes }),
    });
  }

  async #openedLive(at: number, committed: number): Promise<string> {
    const { live, name, start } = this.#o;
    let holds: string;
    try {
      const range = await queueSeqRange(live);
      holds = range.last < range.first
        ? "it is empty"
        : `it holds ${seqs(range.first, range.last)}`;
    } catch (error) {
      // Damage at the end stops the copy only when the tap gets there:
      // every record before it is still copied.
      if (!(error instanceof QueueDamageError)) throw error;
      holds = "its end is damaged";
    }
    let how = `start '${start}'`;
    if (start === "committed") {
      how += committed === 0
        ? `: reader '${name}' has committed nothing, so from the earliest`
        : `: reader '${name}' committed seq ${committed}`;
    }
    return `opened live queue '${live}' at seq ${at} (${how}; ${holds})`;
  }

  // Moves the live reader to the record after the archive's last, or says
  // why it cannot.
  async #lineUp(writer: RecordTarget, start: ArchiveStart): Promise<void> {
    const { live, archive } = this.#o;
    const reader = this.#reader;
    const next = writer.lastSeq + 1;
    const at = reader.nextSeq;
    if (at === next) return;
    if (at < next) {
      try {
        reader.seek({ seq: next });
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        throw new ArchiveAheadError(live, archive, writer.lastSeq, await lastSeqOf(live));
      }
      this.#info(`the archive already holds ${seqs(at, next - 1)}: going on from seq ${next}`);
      return;
    }
    let held = true;
    try {
      reader.seek({ seq: next });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      held = false;
    }
    if (held && start === "committed") {
      this.#info(
        `the archive ends at seq ${
          next - 1
        }, before the committed position: copying again from seq ${next}`,
      );
      return;
    }
    if (held) {
      throw new ArchiveGapError({
        live,
        archive,
        missingFrom: next,
        missingTo: at - 1,
        reason: `start '${start}' is at seq ${at} of live queue '${live}'`,
        remedy:
          `the live queue still holds them: start at 'committed' or 'earliest' to copy them, or archive into a new directory`,
      });
    }
    const earliest = (await queueSeqRange(live)).first;
    throw new ArchiveGapError({
      live,
      archive,
      missingFrom: next,
      missingTo: Math.max(next, earliest - 1),
      reason:
        `live queue '${live}' no longer holds them (it starts at seq ${earliest}): its retention deleted them before the tap read them`,
    });
  }

  async #copy(): Promise<"drained" | "signal"> {
    const commitEvery = this.#o.commitEvery;
    for (;;) {
      if (this.#aborted) return "signal";
      this.#caughtUp = false;
      const started = performance.now();
      const copiedBefore = this.#copied;
      if (this.#writer === undefined) await this.#createArchive();
      if (this.#writer !== undefined) {
        let reportAt = started + PROGRESS_EVERY_MS;
        let reported = false;
        while (!this.#caughtUp) {
          this.#drain(this.#writer, commitEvery);
          // A sealed archive's ciphers take what they can, a JetStream stream
          // its acks or a lost server: the copy waits for them, or a signal.
          if (!(await this.#unlessSignal(this.#writer.ready()))) return "signal";
          this.#commitDurable(this.#writer);
          const snapshots = this.#snapshots;
          if (snapshots !== undefined) {
            snapshots.throwIfFailed();
            // Sets are due faster than the disk takes them: wait, so the plan's pace holds.
            if (snapshots.behind) await snapshots.flush();
            if (snapshots.sets !== this.#snapshotSets) await this.#pruneSnapshots();
          }
          if (this.#caughtUp) break;
          const now = performance.now();
          if (now >= reportAt && this.#log !== undefined) {
            await this.#progress(this.#copied - copiedBefore, now - started);
            reported = true;
            reportAt = performance.now() + PROGRESS_EVERY_MS;
          }
          if (now - this.#lastTurn >= TURN_EVERY_MS) {
            await this.#turnEventLoop();
            if (this.#aborted) return "signal";
          }
        }
        if (reported) {
          this.#info(
            `caught up at seq ${this.#writer.lastSeq}: ${
              count(this.#copied - copiedBefore)
            } copied in ${((performance.now() - started) / 1000).toFixed(1)} s`,
          );
        }
      }
      if (this.#once) return "drained";
      if (!(await this.#waitForLive())) return "signal";
    }
  }

  // Waits for `wait`, or for the signal: false when the signal came first
  // (what `wait` comes to is then of no interest).
  async #unlessSignal(wait: Promise<void>): Promise<boolean> {
    const signal = this.#signal;
    if (signal === undefined) {
      await wait;
      return true;
    }
    const done = wait.then(() => true);
    done.catch(() => {});
    let onAbort = () => {};
    const aborted = new Promise<false>((resolve) => {
      onAbort = () => resolve(false);
      if (signal.aborted) resolve(false);
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([done, aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  // Makes what was copied durable before the commit says so; false when the
  // target is left as it is. A signal does not wait out a lost JetStream
  // server: the reader commits what the stream acknowledged, and the next
  // run copies the rest again.
  async #syncAtStop(stoppedBy: "drained" | "signal"): Promise<boolean> {
    const writer = this.#writer;
    if (writer === undefined) return true;
    if (stoppedBy === "drained" || this.#o.target.kind !== "jetstream") {
      await writer.sync();
      return true;
    }
    const synced = writer.sync().then(() => true);
    synced.catch(() => {});
    for (;;) {
      const durable = writer.durableSeq;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const slice = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), TURN_EVERY_MS);
      });
      try {
        if (await Promise.race([synced, slice])) return true;
      } finally {
        clearTimeout(timer);
      }
      // A JetStream target is full while it recovers from a lost server.
      if (writer.full && writer.durableSeq === durable) {
        this.#info(
          `stopped while ${this.#archiveName} cannot be reached, ${
            seqs(durable + 1, writer.lastSeq)
          } not acknowledged: the next run copies them again`,
        );
        return false;
      }
    }
  }

  // Blocks the thread in the live queue's futex until a record comes, in
  // slices that end at least every TURN_EVERY_MS to turn the event loop;
  // false when the signal aborted meanwhile.
  async #waitForLive(): Promise<boolean> {
    for (;;) {
      const left = this.#lastTurn + TURN_EVERY_MS - performance.now();
      if (left > 0 && this.#reader.waitSync(left)) return true;
      // Idle: a failed snapshot write is told now, not at the next record.
      this.#snapshots?.throwIfFailed();
      await this.#turnEventLoop();
      // A sealed archive commits its last segment on a timer: the reader follows.
      if (this.#writer !== undefined) this.#commitDurable(this.#writer);
      if (this.#aborted) return false;
    }
  }

  // Lets signal listeners and due timers run.
  async #turnEventLoop(): Promise<void> {
    await turnEventLoop();
    this.#lastTurn = performance.now();
  }

  // The first record to copy creates the archive, numbered from its seq.
  async #createArchive(): Promise<void> {
    const m = this.#reader.next();
    if (m === undefined) {
      this.#caughtUp = true;
      return;
    }
    const seq = m.seq;
    const fresh = this.#fresh;
    const writer = fresh ?? await this.#openArchive(seq);
    this.#writer = writer;
    this.#fresh = undefined;
    if (fresh === undefined && writer.lastSeq + 1 !== seq) {
      // Only another process creating the archive in the meantime does this.
      throw new RangeError(
        `Archive '${this.#o.archive}' appeared while the tap started, continuing at seq ${
          writer.lastSeq + 1
        } where seq ${seq} is next: is another tap writing it?`,
      );
    }
    this.#info(
      fresh === undefined
        ? `created archive queue '${this.#o.archive}' starting at seq ${seq}`
        : `${this.#archiveName} starts at seq ${seq}`,
    );
    this.#append(writer, m);
    this.#firstSeq = seq;
    this.#copied++;
  }

  #append(writer: RecordTarget, m: QueueMessage): void {
    writer.appendCopy(m);
    try {
      this.#snapshots?.observeMessage(m);
    } catch (error) {
      if (!(error instanceof BookEventError)) throw error;
      this.#snapshotsStopped(error);
    }
    this.#log?.debug?.(
      `copied seq ${m.seq}: type ${m.typeId}, ${m.payloadLength} B, timestamp ${m.timestampNs} ns`,
    );
  }

  // Copies up to `limit` records with no await in between.
  #drain(writer: RecordTarget, limit: number): void {
    const reader = this.#reader;
    const debug = this.#log?.debug !== undefined;
    const snapshots = this.#snapshots;
    let expected = writer.lastSeq + 1;
    const from = expected;
    try {
      for (let n = 0; n < limit; n++) {
        const m = reader.next();
        if (m === undefined) {
          this.#caughtUp = true;
          return;
        }
        if (m.seq !== expected) this.#jumped(m.seq, expected);
        if (debug || snapshots !== undefined) this.#append(writer, m);
        else writer.appendCopy(m);
        expected++;
        // A sealed archive takes no more until its ciphers and disk catch up.
        if (writer.full) return;
      }
    } finally {
      // From the writer: a record appended before a throw is copied too.
      const n = writer.lastSeq + 1 - from;
      if (n > 0) {
        this.#firstSeq ??= from;
        this.#copied += n;
      }
    }
  }

  // Only retention moves a non-holding reader past a record: it deleted the
  // segment under the reader.
  #jumped(seq: number, expected: number): never {
    const { live, archive } = this.#o;
    if (seq < expected) {
      throw new ArchiveAheadError(live, archive, expected - 1, seq - 1);
    }
    throw new ArchiveGapError({
      live,
      archive,
      missingFrom: expected,
      missingTo: seq - 1,
      reason: `live queue '${live}' deleted them (retention, ${
        count(this.#reader.lostRecords)
      } lost) before the tap read them`,
    });
  }

  async #progress(copied: number, ms: number): Promise<void> {
    const at = this.#writer?.lastSeq ?? 0;
    const last = await lastSeqOf(this.#o.live).catch((error) => {
      if (error instanceof QueueDamageError) return undefined;
      throw error;
    });
    const behind = last === undefined
      ? ""
      : `, ${count(Math.max(0, last - at))} behind the live queue`;
    this.#info(
      `catching up: ${count(copied)} copied (${
        Math.round(copied / (ms / 1000)).toLocaleString("en-US")
      } records/s), at seq ${at}${behind}`,
    );
  }

  // Commits the live reader up to what the archive holds durably. A sealed
  // store's records count once their segment is on disk: a tap killed
  // before that reads them again, since its reader never passed them.
  #commitDurable(writer: RecordTarget): void {
    const durable = Math.min(writer.durableSeq, this.#reader.nextSeq - 1);
    if (durable <= this.#committedSeq) return;
    this.#reader.commit(durable);
    this.#committedSeq = durable;
  }

  // Commits exactly what the archive holds durably, at the end. After a gap
  // or a failed append the reader is already past that.
  #commitArchived(): void {
    const writer = this.#writer;
    if (writer !== undefined && this.#copied > 0) this.#commitDurable(writer);
  }

  #summary(stoppedBy: "drained" | "signal"): ArchiveTapSummary {
    const copied = this.#copied;
    return {
      copied,
      firstSeq: copied === 0 ? undefined : this.#firstSeq,
      lastSeq: copied === 0 ? undefined : this.#firstSeq! + copied - 1,
      // What the archive holds for sure: after a failure, records sent to
      // a sealed store or a JetStream stream may not have been stored.
      archiveLastSeq: this.#writer?.durableSeq,
      stoppedBy,
    };
  }

  #summaryLine(s: ArchiveTapSummary, verb: "copied" | "stopped"): string {
    const seconds = ((performance.now() - this.#startedMs) / 1000).toFixed(1);
    const what = s.copied === 0
      ? `${verb === "copied" ? "copied" : "stopped after copying"} 0 records`
      : `${verb === "copied" ? "copied" : "stopped after copying"} ${count(s.copied)} (${
        seqs(s.firstSeq!, s.lastSeq!)
      }) in ${seconds} s`;
    const end = s.archiveLastSeq === undefined
      ? "no archive yet (nothing to copy)"
      : `archive '${this.#o.archive}' ends at seq ${s.archiveLastSeq}`;
    const why = verb === "copied" && s.stoppedBy === "signal" ? ", stopped by a signal" : "";
    return `${what}${why}; ${end}`;
  }
}
