/**
 * Turns the bytes of a tape into validated records: one line at a time
 * ({@linkcode parseRecordLine}) or a stream of chunks ({@linkcode RecordParser}),
 * with line numbers and byte offsets for every warning and error.
 *
 * @module
 */

import { LineSplitter, MAX_LINE_BYTES } from "./line_splitter.ts";
import { TapeFormatError } from "./tape_format_error.ts";
import { reportWarning } from "./warning_log.ts";
import { memberValueText } from "../json/member_span.ts";
import {
  type FrameRecord,
  type InitRecord,
  TAPE_FORMAT_VERSION,
  type TapeRecord,
} from "./types.ts";

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
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TapeWarningKind } from "./record_parser.ts";
 * const isDamage = (kind: TapeWarningKind) => kind === "bad-line" || kind === "gap";
 * assert.equal(isDamage("partial-line"), false);
 * assert.equal(isDamage("not-a-tape"), false);
 * ```
 */
export type TapeWarningKind =
  | "bad-line"
  | "unknown-type"
  | "gap"
  | "partial-line"
  | "truncated"
  | "replaced"
  | "deleted"
  | "not-a-tape";

/**
 * A problem a lenient reader stepped over, with where it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecordParser, type TapeWarning } from "./record_parser.ts";
 * const warnings: TapeWarning[] = [];
 * const p = new RecordParser("a.jsonl", { firstLine: 2, onWarning: (w) => warnings.push(w) });
 * p.push(new TextEncoder().encode("not json\n"));
 * assert.equal(warnings[0]?.kind, "bad-line");
 * assert.equal(warnings[0]?.line, 2);
 * ```
 */
export interface TapeWarning {
  /** What kind of problem it is. */
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

/**
 * How records are read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TapeReadOptions } from "./record_parser.ts";
 * import { TapeReader } from "./tape_reader.ts";
 * const options: TapeReadOptions = { strict: true };
 * await assert.rejects(TapeReader.open("/nonexistent.jsonl", options), { name: "TapeOpenError" });
 * ```
 */
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
 * Prints a warning the way spool programs do: through the program's
 * {@linkcode WarningLog} (`<program>: warning: <message>`, the first few
 * only, then a count), or `warning: <message>` on stderr outside a program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printWarning } from "./record_parser.ts";
 * import { useWarningLog, WarningLog } from "./warning_log.ts";
 * const lines: string[] = [];
 * const previous = useWarningLog(new WarningLog("tail", { write: (l) => lines.push(l) }));
 * printWarning({ kind: "gap", path: "a.jsonl", line: 3, offset: 90, message: "Example" });
 * useWarningLog(previous);
 * assert.deepEqual(lines, ["tail: warning: Example"]);
 * ```
 */
export function printWarning(warning: TapeWarning): void {
  reportWarning(warning.message);
}

/**
 * Why a single line is not a usable record. `unknown-type` lines are well
 * formed records of a kind this reader does not know; `bad-line` is anything
 * else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRecordLine, RecordLineError } from "./record_parser.ts";
 * assert.throws(
 *   () => parseRecordLine('{"type":"gossip"}'),
 *   (e) => e instanceof RecordLineError && e.kind === "unknown-type" &&
 *     e.message === "Unknown record type 'gossip'",
 * );
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
 * import assert from "node:assert/strict";
 * import { validateRecord } from "./record_parser.ts";
 * const r = validateRecord({ type: "frame", seq: 1, ts: 0.5, dir: "c2s", env: {} });
 * assert.equal(r.type, "frame");
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
      if (o.dir !== "c2s" && o.dir !== "s2c") bad("Record 'frame' has no 'dir' of 'c2s' or 's2c'");
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
 * Refuses a tape whose `init` record has a format version this code does
 * not know (a newer one, whose records it could misread or, appending,
 * corrupt): throws {@linkcode TapeFormatError}
 * `Unsupported tape version '99' (this reader knows 1)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTapeVersion } from "./record_parser.ts";
 * checkTapeVersion(1, "a.jsonl"); // fine
 * assert.throws(() => checkTapeVersion(99, "a.jsonl"), {
 *   message: "Unsupported tape version '99' (this reader knows 1) in 'a.jsonl' at line 1 (byte 0)",
 * });
 * ```
 */
export function checkTapeVersion(version: unknown, path: string): void {
  if (
    typeof version === "number" && Number.isInteger(version) && version >= 1 &&
    version <= TAPE_FORMAT_VERSION
  ) return;
  throw new TapeFormatError(
    `Unsupported tape version '${String(version)}' (this reader knows ${TAPE_FORMAT_VERSION})`,
    { path, line: 1, offset: 0 },
  );
}

/**
 * Parses one line of a tape (without its newline) into a validated record.
 * Throws {@linkcode RecordLineError} for a line that is not JSON, not a
 * record, or a record of an unknown type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRecordLine } from "./record_parser.ts";
 * const r = parseRecordLine('{"type":"frame","seq":1,"ts":0,"dir":"s2c","env":{"id":1}}');
 * assert.equal(r.type === "frame" && r.seq, 1);
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

/**
 * Options of {@linkcode RecordParser}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecordParser, type RecordParserOptions } from "./record_parser.ts";
 * // Picking up in the middle of a tape: line 10, byte 4096, after frame 7.
 * const options: RecordParserOptions = { firstLine: 10, firstOffset: 4096, lastSeq: 7 };
 * const p = new RecordParser("a.jsonl", options);
 * assert.deepEqual([p.line, p.offset, p.lastSeq], [10, 4096, 7]);
 * ```
 */
export interface RecordParserOptions extends TapeReadOptions {
  /** Line number of the first byte pushed; 1 (the default) means the file's start, with its init. */
  firstLine?: number;
  /** Byte offset in the file of the first byte pushed. Default 0. */
  firstOffset?: number;
  /** Sequence number of the last frame before the first byte pushed, for gap checks. Default 0. */
  lastSeq?: number;
  /** Longest line accepted, without its newline. Default {@linkcode MAX_LINE_BYTES}. */
  maxLineBytes?: number;
  /**
   * Keep the text of the last record's line for {@linkcode RecordParser.lastLine}.
   * Off by default: holding on to a line from a long-lived parser keeps its
   * whole decoded chunk alive past young-generation collections, which costs
   * a reader tens of MiB of peak memory on a large tape.
   */
  keepLastLine?: boolean;
}

const NEWLINE = 0x0a;
const EMPTY = new Uint8Array(0);

/**
 * Complete lines waiting to be parsed: a run of whole lines from the line
 * splitter, or a line too long to keep.
 */
interface Segment {
  /** The lines' bytes, each line with its newline, to count the offset of a bad line. */
  bytes: Uint8Array;
  /** Bytes the segment advances the file offset by, newlines included. */
  size: number;
  /** The decoded lines, each with its newline; empty for a too-long line. */
  text: string;
  /** Length of a too-long line, or -1. */
  tooLong: number;
  /** Where the next line starts in `text`, and its index among the segment's lines. */
  pos: number;
  index: number;
  /** Line number and file offset of the first line; set when the segment is reached. */
  firstLine: number;
  firstOffset: number;
  /** Last line whose byte offset was worked out, so a run of bad lines costs one pass. */
  knownIndex: number;
  knownByte: number;
}

/**
 * Turns chunks of a tape file into records, keeping line numbers and byte
 * offsets exact. The first line of the file must be an `init` record (else a
 * {@linkcode TapeFormatError} "Not a tape"); it is returned like any other record.
 *
 * Whole chunks are decoded at once and split on newlines, so the hot path
 * costs one `JSON.parse` per line. Offsets are only worked out when a
 * warning or an error needs one. Lines are split by a {@linkcode LineSplitter},
 * which holds (copies) a line that has no newline yet until the newline
 * arrives; {@linkcode RecordParser.end} reports it if it never does.
 *
 * Two ways to use it: {@linkcode RecordParser.push} returns the records of a
 * chunk as an array; {@linkcode RecordParser.feed} and
 * {@linkcode RecordParser.next} hand them out one at a time, parsing each
 * line only when it is asked for, so just one record is alive at a time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecordParser } from "./record_parser.ts";
 * const p = new RecordParser("a.jsonl");
 * const enc = new TextEncoder();
 * const init = '{"type":"init","version":1,"tape_id":"t","session_id":"s","created_at":"2026-01-01T00:00:00Z","protocol_version":null}\n';
 * assert.equal(p.push(enc.encode(init + '{"type":"frame","seq":1,"ts":0,"dir":"c2s","env":1}\n{"typ')).length, 2);
 * assert.equal(p.pending, 5);
 * ```
 */
export class RecordParser {
  /** File the bytes come from, for messages. */
  readonly path: string;
  #strict: boolean;
  #onWarning: (w: TapeWarning) => void;
  #max: number;
  // A byte order mark before a record is damage to report, not to drop unseen.
  #decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  /** Line number of the next line to be taken. */
  #line: number;
  /** File offset of the first byte of the next segment to be taken. */
  #offset: number;
  /** Fed lines not taken yet, in order; `#current` indexes the one being taken. */
  #segments: Segment[] = [];
  #current = 0;
  #splitter: LineSplitter;
  /** `end` is taking the last line: one over the limit has no newline to count. */
  #ending = false;
  #lastSeq = 0;
  /** The last frame's exact seq when it is past 2^53, where `#lastSeq` is rounded. */
  #lastBigSeq: bigint | undefined;
  #sawFinal = false;
  #lastText = "";
  #keepLastLine: boolean;
  #failure: TapeFormatError | undefined;

  /** Creates a parser for the file at `path`. */
  constructor(path: string, options: RecordParserOptions = {}) {
    this.path = path;
    this.#strict = options.strict ?? false;
    this.#onWarning = options.onWarning ?? printWarning;
    this.#max = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.#line = options.firstLine ?? 1;
    this.#offset = options.firstOffset ?? 0;
    this.#lastSeq = options.lastSeq ?? 0;
    this.#keepLastLine = options.keepLastLine ?? false;
    this.#splitter = this.#newSplitter();
  }

  /** Bytes of the line that has no newline yet (counted, not kept, once over the limit). */
  get pending(): number {
    return this.#splitter.pending;
  }

  /** Line number the next line taken will have. */
  get line(): number {
    return this.#line;
  }

  /** File offset just past the last line taken, once every fed line has been taken. */
  get offset(): number {
    return this.#offset;
  }

  /** Sequence number of the last frame returned (0 before the first). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * The text of the line of the last record returned (without its newline),
   * for callers that need more than the parsed record, e.g. exact numbers.
   * Empty unless the parser was made with `keepLastLine`.
   */
  get lastLine(): string {
    return this.#lastText;
  }

  /** Whether a `checkpoint` with `final: true` has been returned. */
  get sawFinal(): boolean {
    return this.#sawFinal;
  }

  /**
   * The error that stopped a strict parse, once the records before the bad
   * line have been returned; `push`, `feed`, `next` and `end` throw it from then on.
   */
  get failure(): TapeFormatError | undefined {
    return this.#failure;
  }

  /**
   * Feeds the next bytes of the file and returns the records of the lines
   * they complete, in order. Throws {@linkcode TapeFormatError} on a bad
   * first line, or in strict mode on a bad line or an unknown record type
   * (the records before it are returned first; the next call throws). The
   * chunk is not kept: its buffer may be reused once this returns.
   */
  push(chunk: Uint8Array): TapeRecord[] {
    this.feed(chunk);
    const out: TapeRecord[] = [];
    try {
      for (let r = this.next(); r !== undefined; r = this.next()) out.push(r);
    } catch (e) {
      if (e !== this.#failure || out.length === 0) throw e;
    }
    return out;
  }

  /**
   * Feeds the next bytes of the file; take their records with
   * {@linkcode RecordParser.next}. The chunk's bytes must stay unchanged
   * until `next` has returned `undefined`.
   */
  feed(chunk: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#splitter.pushRuns(chunk, this.#onRun);
  }

  /**
   * The next record of the fed lines, or `undefined` when every fed line has
   * been taken. Bad lines are skipped with a warning on the way; in strict
   * mode the first one throws {@linkcode TapeFormatError}.
   */
  next(): TapeRecord | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    for (;;) {
      const seg = this.#segments[this.#current];
      if (seg === undefined) {
        if (this.#current > 0) {
          this.#segments = [];
          this.#current = 0;
        }
        return undefined;
      }
      if (seg.firstLine < 0) {
        seg.firstLine = this.#line;
        seg.firstOffset = this.#offset;
      }
      if (seg.tooLong >= 0) {
        const length = seg.tooLong;
        seg.tooLong = -1;
        seg.index = 1;
        this.#problem(
          "bad-line",
          `Line is longer than ${this.#max} bytes (${length})`,
          seg.firstLine,
          seg.firstOffset,
        );
        continue;
      }
      if (seg.pos >= seg.text.length) {
        this.#line = seg.firstLine + seg.index;
        this.#offset = seg.firstOffset + seg.size;
        this.#current++;
        continue;
      }
      const text = seg.text;
      const nl = text.indexOf("\n", seg.pos);
      const lineText = text.slice(seg.pos, nl);
      seg.pos = nl + 1;
      const index = seg.index++;
      const lineNo = seg.firstLine + index;
      this.#line = lineNo + 1;
      let record: TapeRecord;
      try {
        record = parseRecordLine(lineText);
      } catch (e) {
        if (!(e instanceof RecordLineError)) throw e;
        if (lineNo === 1) this.#notATape(e, 0);
        this.#problem(e.kind, e.message, lineNo, lineOffset(seg, index));
        continue;
      }
      if (record.type === "frame") {
        if (lineNo === 1) this.#notATape(undefined, 0, "frame");
        const seq = record.seq;
        if (this.#lastBigSeq === undefined && Number.isSafeInteger(seq)) {
          if (seq !== this.#lastSeq + 1) {
            this.#gap(seq, this.#lastSeq, lineNo, lineOffset(seg, index));
          }
          this.#lastSeq = seq;
        } else {
          this.#bigFrameSeq(seq, lineText, lineNo, lineOffset(seg, index));
        }
      } else if (lineNo === 1) {
        if (record.type !== "init") this.#notATape(undefined, 0, record.type);
        checkTapeVersion(record.version, this.path);
      } else if (record.type === "checkpoint" && record.final === true) {
        this.#sawFinal = true;
      }
      if (this.#keepLastLine) this.#lastText = lineText;
      return record;
    }
  }

  /**
   * Ends the input. A held line without a newline is reported as a
   * `partial-line` warning and dropped (it is never parsed half written);
   * returns whether there was one. Call it once every fed line is taken.
   */
  end(): boolean {
    if (this.#failure !== undefined) throw this.#failure;
    const held = this.#splitter.pending;
    this.#ending = true;
    let rest: Uint8Array | undefined;
    try {
      rest = this.#splitter.rest();
    } finally {
      this.#ending = false;
    }
    if (rest === undefined) {
      // A last line over the limit was queued as a bad line: report it now.
      if (held > 0) this.next();
      return false;
    }
    this.#warn(
      "partial-line",
      `Incomplete last line (${rest.length} bytes, no newline) not read`,
      this.#line,
      this.#offset,
    );
    return true;
  }

  /**
   * Forgets held bytes, fed lines and sequence state and starts over at line
   * 1, offset 0: the file was truncated or replaced.
   */
  reset(): void {
    this.#line = 1;
    this.#offset = 0;
    this.#segments = [];
    this.#current = 0;
    this.#splitter = this.#newSplitter();
    this.#lastSeq = 0;
    this.#lastBigSeq = undefined;
    this.#sawFinal = false;
    this.#lastText = "";
    this.#failure = undefined;
  }

  #newSplitter(): LineSplitter {
    return new LineSplitter({ maxLineBytes: this.#max, onOversize: this.#onOversize });
  }

  #onRun = (run: Uint8Array): void => {
    this.#queue(run, this.#decoder.decode(run), -1);
  };

  #onOversize = (byteLength: number): void => {
    this.#queue(EMPTY, "", byteLength);
  };

  #queue(bytes: Uint8Array, text: string, tooLong: number): void {
    this.#segments.push({
      bytes,
      // A too-long line is followed by its newline, except the last line at the end.
      size: tooLong < 0 ? bytes.length : this.#ending ? tooLong : tooLong + 1,
      text,
      tooLong,
      pos: 0,
      index: 0,
      firstLine: -1,
      firstOffset: 0,
      knownIndex: 0,
      knownByte: 0,
    });
  }

  #notATape(e: RecordLineError | undefined, offset: number, type?: string): never {
    const reason = e === undefined
      ? `Not a tape: the first record is of type '${type}', not 'init'`
      : e.kind === "unknown-type"
      ? `Not a tape: the first record is not 'init' (${lowerFirst(e.message)})`
      : `Not a tape: the first line is not an 'init' record (${lowerFirst(e.message)})`;
    throw new TapeFormatError(reason, { path: this.path, line: 1, offset }, { cause: e });
  }

  // JSON.parse rounds a seq past 2^53: its exact digits, from the line, decide gaps and messages.
  #bigFrameSeq(seq: number, lineText: string, line: number, offset: number): void {
    const exact = exactInteger(seq, lineText);
    const last = this.#lastBigSeq ??
      (Number.isInteger(this.#lastSeq) ? BigInt(this.#lastSeq) : undefined);
    if (exact === undefined || last === undefined) {
      if (seq !== this.#lastSeq + 1) this.#gap(seq, this.#lastSeq, line, offset);
    } else if (exact !== last + 1n) {
      this.#gap(exact, last, line, offset);
    }
    this.#lastSeq = seq;
    this.#lastBigSeq = exact !== undefined && !Number.isSafeInteger(seq) ? exact : undefined;
  }

  #gap<N extends number | bigint>(seq: N, last: N, line: number, offset: number): void {
    // One arithmetic for both: a bigint step is 1n, a number step 1.
    const one = (typeof seq === "bigint" ? 1n : 1) as N;
    const plus = (a: N, b: N) => ((a as number) + (b as number)) as N;
    const minus = (a: N, b: N) => ((a as number) - (b as number)) as N;
    const next = plus(last, one);
    const reason = seq > next
      ? seq === plus(next, one)
        ? `Sequence gap: frame ${next} is missing`
        : `Sequence gap: frames ${next} to ${minus(seq, one)} are missing`
      : `Sequence out of order: frame ${seq} follows frame ${last}`;
    this.#warn("gap", reason, line, offset);
  }

  #problem(kind: "bad-line" | "unknown-type", reason: string, line: number, offset: number): void {
    if (this.#strict) {
      this.#failure = new TapeFormatError(reason, { path: this.path, line, offset });
      throw this.#failure;
    }
    this.#warn(kind, reason, line, offset, ", skipped");
  }

  #warn(kind: TapeWarningKind, reason: string, line: number, offset: number, tail = ""): void {
    const message = new TapeFormatError(reason, { path: this.path, line, offset }).message + tail;
    this.#onWarning({ kind, path: this.path, line, offset, message });
  }
}

/** File offset of the line at `index` of a segment, counted from its bytes. */
function lineOffset(seg: Segment, index: number): number {
  if (index < seg.knownIndex) {
    seg.knownIndex = 0;
    seg.knownByte = 0;
  }
  while (seg.knownIndex < index) {
    seg.knownByte = seg.bytes.indexOf(NEWLINE, seg.knownByte) + 1;
    seg.knownIndex++;
  }
  return seg.firstOffset + seg.knownByte;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * The exact value of a frame's integer `seq`: the number itself when it is
 * safe, else the digits of the line's `seq` member; `undefined` when it is
 * no integer.
 */
function exactInteger(seq: number, lineText: string): bigint | undefined {
  if (!Number.isInteger(seq)) return undefined;
  if (Number.isSafeInteger(seq)) return BigInt(seq);
  const text = memberValueText(lineText, "seq");
  return text !== undefined && /^-?[0-9]+$/.test(text) ? BigInt(text) : BigInt(seq);
}
