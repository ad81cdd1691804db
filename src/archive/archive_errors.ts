/**
 * The archive tap's errors, by meaning. An archive numbers its records with
 * the live queue's seqs, so it can neither skip a seq nor hold one twice:
 * when the live queue and the archive no longer line up, the tap stops with
 * one of these instead of writing a record under the wrong seq.
 *
 * @module
 */

function seqRange(from: number, to: number): string {
  return from === to ? `seq ${from} is` : `seqs ${from}..${to} are`;
}

/**
 * Records the archive still needs are not in the live queue (retention
 * deleted them before the tap read them), or the chosen start position
 * lies past them (`latest` on an archive that ends earlier). An archive
 * cannot hold a gap, so the tap stops; every record before the gap stays
 * archived and committed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ArchiveGapError } from "./archive_errors.ts";
 * const e = new ArchiveGapError({
 *   live: "/bus/live/quotes/queue",
 *   archive: "/bus/archive/quotes/queue",
 *   missingFrom: 101,
 *   missingTo: 250,
 *   reason: "the live queue's retention deleted them before the tap read them",
 * });
 * assert.equal(e.missingTo - e.missingFrom + 1, 150);
 * assert.ok(e instanceof RangeError);
 * ```
 */
export class ArchiveGapError extends RangeError {
  /** The live queue directory. */
  readonly live: string;
  /** The archive queue directory. */
  readonly archive: string;
  /** First seq the archive lacks: one past its last record. */
  readonly missingFrom: number;
  /** Last seq of the gap: one before the next record the live queue would give. */
  readonly missingTo: number;

  /**
   * Builds the error. `reason` says why the seqs are missing; `remedy`
   * replaces the default advice (archive into a new directory).
   */
  constructor(
    details: {
      live: string;
      archive: string;
      missingFrom: number;
      missingTo: number;
      reason: string;
      remedy?: string;
    },
  ) {
    const { live, archive, missingFrom, missingTo } = details;
    const remedy = details.remedy ??
      `to go on, archive into a new directory (this archive stays whole up to seq ${
        missingFrom - 1
      }) and give live queue '${live}' a longer retention`;
    super(
      `Archive '${archive}' cannot have a gap: ${
        seqRange(missingFrom, missingTo)
      } missing, as ${details.reason}; ${remedy}`,
    );
    this.name = "ArchiveGapError";
    this.live = live;
    this.archive = archive;
    this.missingFrom = missingFrom;
    this.missingTo = missingTo;
  }
}

/**
 * The archive holds seqs the live queue never reached: the live queue was
 * created again, or lost its newest records in a machine crash, or the
 * archive belongs to another queue. Copying on would file different
 * records under seqs the archive already has, so the tap refuses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ArchiveAheadError } from "./archive_errors.ts";
 * const e = new ArchiveAheadError("/q/live", "/q/archive", 900, 400);
 * assert.equal(e.archiveLastSeq - e.liveLastSeq, 500);
 * ```
 */
export class ArchiveAheadError extends RangeError {
  /** The live queue directory. */
  readonly live: string;
  /** The archive queue directory. */
  readonly archive: string;
  /** Seq of the archive's last record. */
  readonly archiveLastSeq: number;
  /** Seq of the live queue's last record. */
  readonly liveLastSeq: number;

  /** Builds the error from both queues and where each ends. */
  constructor(live: string, archive: string, archiveLastSeq: number, liveLastSeq: number) {
    super(
      `Archive '${archive}' ends at seq ${archiveLastSeq} but live queue '${live}' ends at seq ${liveLastSeq}: ` +
        "the archive holds records the live queue does not (was the live queue created again, " +
        "or is this the archive of another queue?); archive into a new directory",
    );
    this.name = "ArchiveAheadError";
    this.live = live;
    this.archive = archive;
    this.archiveLastSeq = archiveLastSeq;
    this.liveLastSeq = liveLastSeq;
  }
}
