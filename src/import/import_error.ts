/**
 * The import's errors, by meaning: a line of the input that cannot be
 * imported, an input file that cannot be read, and an import that stopped
 * part way, which says how much reached the queue and how to resume.
 *
 * @module
 */

/**
 * One record of the input cannot be imported: the line is not a record, its
 * seq does not follow the one before, its timestamp goes back under strict
 * order, or the queue refuses it. The message is the reason alone; the line
 * is carried apart so the final message can name the input once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InputLineError } from "./import_error.ts";
 * const e = new InputLineError("Seq 9 follows seq 7: seq 8 is missing", 12);
 * assert.equal(e.line, 12);
 * assert.ok(e instanceof SyntaxError);
 * ```
 */
export class InputLineError extends SyntaxError {
  /** 1-based line number of the record in the input. */
  readonly line: number;

  /** Builds the error for a reason and the line it is about. */
  constructor(reason: string, line: number, options?: ErrorOptions) {
    super(reason, options);
    this.name = "InputLineError";
    this.line = line;
  }
}

/**
 * The input file cannot be opened or read (missing, a directory, no
 * permission, an I/O error part way). A path of `-` is standard input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InputFileError } from "./import_error.ts";
 * const e = new InputFileError("data.jsonl", "no such file or directory");
 * assert.equal(e.message, "Cannot read 'data.jsonl': no such file or directory");
 * assert.equal(new InputFileError("-", "is a directory").message, "Cannot read standard input: is a directory");
 * ```
 */
export class InputFileError extends Error {
  /** The file that could not be read; `-` for standard input. */
  readonly path: string;

  /** Builds the error from the file and a lower-case reason. */
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`Cannot read ${path === "-" ? "standard input" : `'${path}'`}: ${reason}`, options);
    this.name = "InputFileError";
    this.path = path;
  }
}

/**
 * The queue to import into cannot be opened or created: the file system
 * refused (a missing parent directory, no permission, a full disk).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueOpenError } from "./import_error.ts";
 * const e = new QueueOpenError("/var/q", "no space left on device");
 * assert.equal(e.message, "Cannot open queue '/var/q': no space left on device");
 * assert.equal(e.queue, "/var/q");
 * ```
 */
export class QueueOpenError extends Error {
  /** The queue directory. */
  readonly queue: string;
  /** Why, in the tape module's wording (see `ioReason`). */
  readonly reason: string;

  /** Builds the error from the queue and a lower-case reason. */
  constructor(queue: string, reason: string, options?: ErrorOptions) {
    super(`Cannot open queue '${queue}': ${reason}`, options);
    this.name = "QueueOpenError";
    this.queue = queue;
    this.reason = reason;
  }
}

/**
 * A market-data import that would not continue its queue: a resume
 * (`--from-line N`) whose line does not follow the last line the queue
 * holds, or that the queue's last event shows another kind of import
 * wrote, or a whole import whose input does not start after the queue's
 * last record. Nothing is written; the message says how to go on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueContinuityError } from "./import_error.ts";
 * const e = new QueueContinuityError("q", "Queue 'q' ends at line 999", { lastLine: 999, resumeLine: 1000 });
 * assert.equal(e.queue, "q");
 * assert.equal(e.resumeLine, 1000);
 * ```
 */
export class QueueContinuityError extends Error {
  /** The queue directory. */
  readonly queue: string;
  /** The input line of the queue's last event (its vendor seq), when it is a book event. */
  readonly lastLine: number | undefined;
  /** The `--from-line` that resumes the import the queue holds, when there is one. */
  readonly resumeLine: number | undefined;

  /** Builds the error from the queue, the whole message, and what the queue holds. */
  constructor(
    queue: string,
    message: string,
    at: { lastLine?: number | undefined; resumeLine?: number | undefined } = {},
  ) {
    super(message);
    this.name = "QueueContinuityError";
    this.queue = queue;
    this.lastLine = at.lastLine;
    this.resumeLine = at.resumeLine;
  }
}

/**
 * Whose fault stopped an import, which decides the advice: the input's
 * (fix it), a full disk (free space), or the queue's (make it writable).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ImportFault } from "./import_error.ts";
 * const faults: ImportFault[] = ["input", "disk-full", "queue"];
 * assert.equal(faults.length, 3);
 * ```
 */
export type ImportFault = "input" | "disk-full" | "queue";

/** Where an import stood when it stopped; see {@linkcode ImportError}. */
export interface ImportStop {
  /** How the input is named in the message: a path, or `stdin`. */
  source: string;
  /** The queue directory. */
  queue: string;
  /** Line of the record at fault, when the fault is one record's. */
  line: number | undefined;
  /** Records appended to the queue by this import before it stopped. */
  imported: number;
  /** Seqs of the first and last record appended, when any were. */
  seqs: { first: number; last: number } | undefined;
  /** Whether the input's records carry seqs, so a re-run can skip what is in the queue. */
  seqsInInput: boolean;
  /** First input line not imported, for a resume of an input without seqs. */
  resumeLine: number;
  /**
   * The option that resumes at `resumeLine` (such as `--from-line`), for
   * inputs that must be read whole again to rebuild their state.
   */
  resumeOption?: string;
  /** Whose fault it is; default `input`. */
  fault?: ImportFault;
}

/**
 * An import that stopped part way. Every record appended before the fault
 * stays in the queue; the message says how many there are and how to
 * resume, all on one line:
 *
 * `'data.jsonl' line 7: Not JSON: …; 6 records were imported into 'q' (seq 1..6): fix the input and re-run with '--skip-existing' to resume`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ImportError } from "./import_error.ts";
 * const stop = {
 *   source: "data.jsonl", queue: "q", line: 3, imported: 2,
 *   seqs: { first: 1, last: 2 }, seqsInInput: true, resumeLine: 3,
 * };
 * const e = new ImportError("Not JSON: unexpected end", stop);
 * assert.equal(e.line, 3);
 * assert.equal(e.imported, 2);
 * assert.equal(
 *   e.message,
 *   "'data.jsonl' line 3: Not JSON: unexpected end; 2 records were imported into 'q' (seq 1..2): fix the input and re-run with '--skip-existing' to resume",
 * );
 * const full = new ImportError("Cannot grow 'q/2.seg': no space left on device", { ...stop, line: undefined, fault: "disk-full" });
 * assert.match(full.message, /nothing after the last of them was written: the disk holding 'q' is full/);
 * ```
 */
export class ImportError extends Error {
  /** How the input is named: a path, or `stdin`. */
  readonly source: string;
  /** The queue directory. */
  readonly queue: string;
  /** Line of the record at fault, when the fault is one record's. */
  readonly line: number | undefined;
  /** Records appended by this import before it stopped; they stay in the queue. */
  readonly imported: number;

  /** Builds the error from the reason and where the import stood. */
  constructor(reason: string, stop: ImportStop, options?: ErrorOptions) {
    super(importStopMessage(reason, stop), options);
    this.name = "ImportError";
    this.source = stop.source;
    this.queue = stop.queue;
    this.line = stop.line;
    this.imported = stop.imported;
  }
}

function importStopMessage(reason: string, stop: ImportStop): string {
  const fault = stop.fault ?? "input";
  const where = stop.line === undefined
    ? ""
    : `${stop.source === "stdin" ? "stdin" : `'${stop.source}'`} line ${stop.line}: `;
  const full = `the disk holding '${stop.queue}' is full`;
  if (stop.imported === 0 || stop.seqs === undefined) {
    const nothing = `${where}${reason}; nothing was imported into '${stop.queue}'`;
    return fault === "disk-full" ? `${nothing}: ${full}, free space there and re-run` : nothing;
  }
  const count = stop.imported === 1 ? "1 record was" : `${stop.imported} records were`;
  const done = `${count} imported into '${stop.queue}' (seq ${stop.seqs.first}..${stop.seqs.last})`;
  // With seqs the whole input can be given again: what the queue has is skipped.
  const resume = stop.seqsInInput
    ? "re-run with '--skip-existing' to resume"
    : stop.resumeOption !== undefined
    ? `re-run with '${stop.resumeOption} ${stop.resumeLine}' to resume`
    : `re-run on its lines from ${stop.resumeLine} on to resume`;
  switch (fault) {
    case "input":
      return `${where}${reason}; ${done}: fix the input and ${resume}`;
    case "disk-full":
      // The queue refused the next record whole: the records before it are all there is.
      return `${where}${reason}; ${done}, nothing after the last of them was written: ${full}, ` +
        `free space there and ${resume}`;
    case "queue":
      return `${where}${reason}; ${done}: once '${stop.queue}' can be written, ${resume}`;
  }
}
