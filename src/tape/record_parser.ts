/**
 * Turns the bytes of a tape into validated records: one line at a time
 * ({@linkcode parseRecordLine}) or a stream of chunks ({@linkcode RecordParser}),
 * with line numbers and byte offsets for every warning and error.
 *
 * @module
 */

import { MAX_LINE_BYTES } from "./line_splitter.ts";
import { TapeFormatError } from "./tape_format_error.ts";
import type { FrameRecord, InitRecord, TapeRecord } from "./types.ts";

/**
 * What went wrong with a line that was skipped or a change to the file that
 * a reader worked around:
 *
 * - `bad-line`: not JSON, not a record, or longer than the line limit;
 * - `unknown-type`: a record whose `type` this reader does not know;
 * - `gap`: frame sequence numbers that are not contiguous;
 * - `partial-line`: a last line without its newline (a writer still writing, or killed);
 * - `truncated`: a followed file shrank, reading restarted from its start;
 * - `replaced`: a followed path now names another file, reading restarted on it.
 */
export type TapeWarningKind =
  | "bad-line"
  | "unknown-type"
  | "gap"
  | "partial-line"
  | "truncated"
  | "replaced";

/** A problem a lenient reader stepped over, with where it is. */
export interface TapeWarning {
  kind: TapeWarningKind;
  /** File the problem was found in. */
  path: string;
  /** 1-based line number. */
  line: number;
  /** Byte offset of the start of the line. */
  offset: number;
  /** Complete sentence naming the file, line and offset. */
  message: string;
}

/** How records are read. */
export interface TapeReadOptions {
  /**
   * Turns bad lines and unknown record types into a {@linkcode TapeFormatError}
   * instead of a warning. Gaps and a partial last line stay warnings.
   */
  strict?: boolean;
  /** Told about each warning; by default `warning: <message>` is printed to stderr. */
  onWarning?: (warning: TapeWarning) => void;
}

/**
 * Prints a warning the way spool programs do: `warning: <message>` on stderr.
 *
 * @example
 * ```ts
 * import { printWarning } from "./record_parser.ts";
 * printWarning({ kind: "gap", path: "a.jsonl", line: 3, offset: 90, message: "Example" });
 * ```
 */
export function printWarning(warning: TapeWarning): void {
  console.error(`warning: ${warning.message}`);
}

/**
 * Why a single line is not a usable record. `unknown-type` lines are well
 * formed records of a kind this reader does not know; `bad-line` is anything
 * else.
 *
 * @example
 * ```ts
 * import { parseRecordLine, RecordLineError } from "./record_parser.ts";
 * try {
 *   parseRecordLine('{"type":"gossip"}');
 * } catch (e) {
 *   if (e instanceof RecordLineError) console.log(e.kind, e.message); // unknown-type ...
 * }
 * ```
 */
export class RecordLineError extends SyntaxError {
  /** `bad-line` or `unknown-type`. */
  readonly kind: "bad-line" | "unknown-type";

  /** Builds the error. */
  constructor(kind: "bad-line" | "unknown-type", reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.name = "RecordLineError";
    this.kind = kind;
  }
}

const DIRECTIONS = new Set(["c2s", "s2c"]);

function bad(reason: string): never {
  throw new RecordLineError("bad-line", reason);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireNumber(o: Record<string, unknown>, field: string, type: string): void {
  if (typeof o[field] !== "number") bad(`Record '${type}' has no numeric '${field}'`);
}

function requireString(o: Record<string, unknown>, field: string, type: string): void {
  if (typeof o[field] !== "string") bad(`Record '${type}' has no string '${field}'`);
}

function requireNumberOrNull(o: Record<string, unknown>, field: string, type: string): void {
  const v = o[field];
  if (v !== null && typeof v !== "number") bad(`Record '${type}' has no numeric '${field}'`);
}

/**
 * Checks that a parsed JSON value is a tape record: its `type` tag and the
 * fields that tag requires, nothing deeper (an envelope is whatever JSON the
 * wire carried). Throws {@linkcode RecordLineError} otherwise.
 *
 * @example
 * ```ts
 * import { validateRecord } from "./record_parser.ts";
 * const r = validateRecord({ type: "frame", seq: 1, ts: 0.5, dir: "c2s", env: {} });
 * console.log(r.type); // "frame"
 * ```
 */
export function validateRecord(value: unknown): TapeRecord {
  if (!isObject(value)) bad("Line is not a JSON object");
  const o = value;
  // Frames come first: they are nearly every line of a tape.
  switch (o.type) {
    case "frame":
      if (typeof o.seq !== "number" || typeof o.ts !== "number") {
        requireNumber(o, "seq", "frame");
        requireNumber(o, "ts", "frame");
      }
      if (!DIRECTIONS.has(o.dir as string)) bad("Record 'frame' has no 'dir' of 'c2s' or 's2c'");
      if (!("env" in o)) bad("Record 'frame' has no 'env'");
      return o as unknown as FrameRecord;
    case "correlation":
      requireString(o, "id", "correlation");
      requireNumber(o, "request_seq", "correlation");
      requireNumberOrNull(o, "response_seq", "correlation");
      requireString(o, "status", "correlation");
      return o as unknown as TapeRecord;
    case "checkpoint":
      requireNumber(o, "seq", "checkpoint");
      requireString(o, "checkpoint_at", "checkpoint");
      if (!isObject(o.stats)) bad("Record 'checkpoint' has no object 'stats'");
      return o as unknown as TapeRecord;
    case "init":
      requireNumber(o, "version", "init");
      requireString(o, "tape_id", "init");
      requireString(o, "created_at", "init");
      return o as unknown as InitRecord;
    default:
      if (typeof o.type !== "string") bad("Record has no string 'type'");
      throw new RecordLineError("unknown-type", `Unknown record type '${o.type}'`);
  }
}

/**
 * Parses one line of a tape (without its newline) into a validated record.
 * Throws {@linkcode RecordLineError} for a line that is not JSON, not a
 * record, or a record of an unknown type.
 *
 * @example
 * ```ts
 * import { parseRecordLine } from "./record_parser.ts";
 * const r = parseRecordLine('{"type":"frame","seq":1,"ts":0,"dir":"s2c","env":{"id":1}}');
 * console.log(r.type === "frame" && r.seq); // 1
 * ```
 */
export function parseRecordLine(line: string): TapeRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    if (line.trim() === "") bad("Line is empty");
    throw new RecordLineError("bad-line", "Line is not valid JSON", { cause: e });
  }
  return validateRecord(value);
}

/** Options of {@linkcode RecordParser}. */
export interface RecordParserOptions extends TapeReadOptions {
  /** Line number of the first byte pushed; 1 (the default) means the file's start, with its init. */
  firstLine?: number;
  /** Byte offset in the file of the first byte pushed. Default 0. */
  firstOffset?: number;
  /** Longest line accepted, without its newline. Default {@linkcode MAX_LINE_BYTES}. */
  maxLineBytes?: number;
}

const NEWLINE = 0x0a;

/**
 * Turns chunks of a tape file into records, keeping line numbers and byte
 * offsets exact. The first line of the file must be an `init` record (else a
 * {@linkcode TapeFormatError} "Not a tape"); it is returned like any other record.
 *
 * Whole chunks are decoded at once and split on newlines, so the hot path
 * costs one `JSON.parse` per line. Offsets are only worked out when a
 * warning or an error needs one. A line that has no newline yet is held
 * (copied) until the newline arrives; {@linkcode RecordParser.end} reports it
 * if it never does.
 *
 * @example
 * ```ts
 * import { RecordParser } from "./record_parser.ts";
 * const p = new RecordParser("a.jsonl");
 * const enc = new TextEncoder();
 * const init = '{"type":"init","version":1,"tape_id":"t","session_id":"s","created_at":"2026-01-01T00:00:00Z","protocol_version":null}\n';
 * console.log(p.push(enc.encode(init + '{"type":"frame","seq":1,"ts":0,"dir":"c2s","env":1}\n{"typ')).length); // 2
 * console.log(p.pending); // 5
 * ```
 */
export class RecordParser {
  /** File the bytes come from, for messages. */
  readonly path: string;
  #strict: boolean;
  #onWarning: (w: TapeWarning) => void;
  #max: number;
  #decoder = new TextDecoder();
  /** Line number of the next line to complete. */
  #line: number;
  /** File offset of the next byte not yet consumed into a line. */
  #offset: number;
  /** Bytes of the unfinished line, and how many of them are held. */
  #carry: Uint8Array | undefined;
  #carryLength = 0;
  /** The unfinished line is over the limit: skip up to its newline. */
  #skipping = false;
  #skipped = 0;
  #lastSeq = 0;
  #sawFinal = false;

  /** Creates a parser for the file at `path`. */
  constructor(path: string, options: RecordParserOptions = {}) {
    this.path = path;
    this.#strict = options.strict ?? false;
    this.#onWarning = options.onWarning ?? printWarning;
    this.#max = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.#line = options.firstLine ?? 1;
    this.#offset = options.firstOffset ?? 0;
  }

  /** Bytes held for a line that has no newline yet. */
  get pending(): number {
    return this.#skipping ? this.#skipped : this.#carryLength;
  }

  /** Line number the next completed line will have. */
  get line(): number {
    return this.#line;
  }

  /** File offset of the first byte not yet part of a completed line. */
  get offset(): number {
    return this.#offset;
  }

  /** Whether a `checkpoint` with `final: true` has been returned. */
  get sawFinal(): boolean {
    return this.#sawFinal;
  }

  /**
   * Feeds the next bytes of the file and returns the records of the lines
   * they complete, in order. Throws {@linkcode TapeFormatError} on a bad
   * first line, or in strict mode on a bad line or an unknown record type.
   * The chunk is not kept: its buffer may be reused once this returns.
   */
  push(chunk: Uint8Array): TapeRecord[] {
    const out: TapeRecord[] = [];
    let start = 0;
    if (this.#carryLength > 0 || this.#skipping) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl === -1) {
        this.#hold(chunk);
        return out;
      }
      start = nl + 1;
      if (this.#skipping) {
        this.#tooLong(this.#skipped + nl);
      } else if (this.#carryLength + nl > this.#max) {
        this.#tooLong(this.#carryLength + nl);
      } else {
        const joined = new Uint8Array(this.#carryLength + nl);
        joined.set(this.#carry!.subarray(0, this.#carryLength));
        joined.set(chunk.subarray(0, nl), this.#carryLength);
        this.#carryLength = 0;
        if (this.#carry!.length > 1024 * 1024) this.#carry = undefined;
        this.#lines(joined, 0, joined.length + 1, out, true);
      }
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) {
      this.#lines(chunk, start, last + 1, out, false);
      start = last + 1;
    }
    if (start < chunk.length) this.#hold(chunk.subarray(start));
    return out;
  }

  /**
   * Ends the input. A held line without a newline is reported as a
   * `partial-line` warning and dropped (it is never parsed half written);
   * returns whether there was one.
   */
  end(): boolean {
    if (this.#skipping) {
      this.#tooLong(this.#skipped);
      return false;
    }
    if (this.#carryLength === 0) return false;
    const n = this.#carryLength;
    this.#carryLength = 0;
    this.#carry = undefined;
    this.#warn(
      "partial-line",
      `Incomplete last line (${n} bytes, no newline) not read`,
      this.#line,
      this.#offset,
    );
    return true;
  }

  /**
   * Forgets held bytes and sequence state and starts over at line 1, offset
   * 0: the file was truncated or replaced.
   */
  reset(): void {
    this.#line = 1;
    this.#offset = 0;
    this.#carry = undefined;
    this.#carryLength = 0;
    this.#skipping = false;
    this.#skipped = 0;
    this.#lastSeq = 0;
    this.#sawFinal = false;
  }

  #hold(rest: Uint8Array): void {
    if (this.#skipping) {
      this.#skipped += rest.length;
      return;
    }
    const need = this.#carryLength + rest.length;
    if (need > this.#max) {
      // One runaway line must not make memory grow past the limit.
      this.#skipping = true;
      this.#skipped = need;
      this.#carry = undefined;
      this.#carryLength = 0;
      return;
    }
    if (this.#carry === undefined || this.#carry.length < need) {
      const grown = new Uint8Array(Math.max(need, 2 * (this.#carry?.length ?? 0), 4096));
      if (this.#carry !== undefined) grown.set(this.#carry.subarray(0, this.#carryLength));
      this.#carry = grown;
    }
    this.#carry.set(rest, this.#carryLength);
    this.#carryLength = need;
  }

  #tooLong(length: number): void {
    const line = this.#line;
    const offset = this.#offset;
    this.#line++;
    this.#offset += length + 1;
    this.#skipping = false;
    this.#skipped = 0;
    this.#carryLength = 0;
    this.#carry = undefined;
    this.#problem("bad-line", `Line is longer than ${this.#max} bytes (${length})`, line, offset);
  }

  /**
   * Parses the complete lines in `bytes[from, to)`; `to - 1` is a newline,
   * except when `joined` says the bytes are one line whose newline was not copied.
   */
  #lines(bytes: Uint8Array, from: number, to: number, out: TapeRecord[], joined: boolean): void {
    const text = this.#decoder.decode(bytes.subarray(from, joined ? to - 1 : to));
    const end = joined ? text.length + 1 : text.length;
    const firstLine = this.#line;
    const firstOffset = this.#offset;
    let pos = 0;
    let index = 0;
    // Where the last computed offset was, so a run of bad lines costs one pass.
    let knownIndex = 0;
    let knownByte = from;
    const lineOffset = (i: number): number => {
      if (i < knownIndex) {
        knownIndex = 0;
        knownByte = from;
      }
      while (knownIndex < i) {
        knownByte = bytes.indexOf(NEWLINE, knownByte) + 1;
        knownIndex++;
      }
      return firstOffset + knownByte - from;
    };
    while (pos < end) {
      let nl = text.indexOf("\n", pos);
      if (nl === -1) nl = text.length;
      const lineText = text.slice(pos, nl);
      pos = nl + 1;
      const lineNo = firstLine + index;
      let record: TapeRecord;
      try {
        record = parseRecordLine(lineText);
      } catch (e) {
        if (!(e instanceof RecordLineError)) throw e;
        if (lineNo === 1) this.#notATape(e, lineOffset(index));
        this.#line = lineNo + 1;
        this.#problem(e.kind, e.message, lineNo, lineOffset(index));
        index++;
        continue;
      }
      if (record.type === "frame") {
        if (lineNo === 1) this.#notATape(undefined, 0, "frame");
        const seq = record.seq;
        if (seq !== this.#lastSeq + 1) this.#gap(seq, lineNo, lineOffset(index));
        this.#lastSeq = seq;
      } else if (lineNo === 1 && record.type !== "init") {
        this.#notATape(undefined, 0, record.type);
      } else if (record.type === "checkpoint" && record.final === true) {
        this.#sawFinal = true;
      }
      out.push(record);
      index++;
    }
    this.#line = firstLine + index;
    this.#offset = firstOffset + (to - from);
  }

  #notATape(e: RecordLineError | undefined, offset: number, type?: string): never {
    const reason = e === undefined
      ? `Not a tape: the first record is of type '${type}', not 'init'`
      : e.kind === "unknown-type"
      ? `Not a tape: the first record is not 'init' (${lowerFirst(e.message)})`
      : `Not a tape: the first line is not an 'init' record (${lowerFirst(e.message)})`;
    throw new TapeFormatError(reason, { path: this.path, line: 1, offset }, { cause: e });
  }

  #gap(seq: number, line: number, offset: number): void {
    const last = this.#lastSeq;
    const reason = seq > last + 1
      ? seq === last + 2
        ? `Sequence gap: frame ${last + 1} is missing`
        : `Sequence gap: frames ${last + 1} to ${seq - 1} are missing`
      : `Sequence out of order: frame ${seq} follows frame ${last}`;
    this.#warn("gap", reason, line, offset);
  }

  #problem(kind: "bad-line" | "unknown-type", reason: string, line: number, offset: number): void {
    if (this.#strict) throw new TapeFormatError(reason, { path: this.path, line, offset });
    this.#warn(kind, reason, line, offset, ", skipped");
  }

  #warn(kind: TapeWarningKind, reason: string, line: number, offset: number, tail = ""): void {
    const message = new TapeFormatError(reason, { path: this.path, line, offset }).message + tail;
    this.#onWarning({ kind, path: this.path, line, offset, message });
  }
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
