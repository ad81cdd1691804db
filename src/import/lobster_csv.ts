/**
 * Reading LOBSTER's CSV files at import speed: rows of numbers, parsed
 * straight from the file's bytes with no string per row or field.
 *
 * @module
 */

import { ioReason } from "../tape/mod.ts";
import { InputFileError, InputLineError } from "./import_error.ts";
import { openInputFile } from "./input_lines.ts";

const NEWLINE = 0x0a;
const CR = 0x0d;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
/** Digits a field may have: any 15-digit integer is exact in a double. */
const MAX_DIGITS = 15;
const BUFFER_BYTES = 1024 * 1024;
const ROW = 1;
const MORE = 0;
const END = -1;

/**
 * The rows of one LOBSTER CSV file, each a list of numbers such as
 * `34200.015105074,1,16113575,18,5853300,1`. {@linkcode LobsterCsv.next}
 * reads a row into {@linkcode LobsterCsv.values} (the digits as an
 * integer, the decimal point dropped) and {@linkcode LobsterCsv.decimals}
 * (digits after the point); a field that is not such a number leaves its
 * reason in {@linkcode LobsterCsv.problem}. The arrays are reused from row
 * to row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LobsterCsv } from "./lobster_csv.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".csv" });
 * Deno.writeTextFileSync(path, "34200.5,1,7,100,5853300,-1\n1,x\n");
 * const csv = await LobsterCsv.open(path, 6);
 * assert.equal(await csv.next(), true);
 * assert.equal(csv.fieldCount, 6);
 * assert.deepEqual([...csv.values], [342005, 1, 7, 100, 5853300, -1]);
 * assert.equal(csv.decimals[0], 1);
 * assert.equal(await csv.next(), true);
 * assert.equal(csv.line, 2);
 * assert.equal(csv.problem, "field 2 'x' is not a number");
 * assert.equal(csv.unterminated, false); // a last line without a newline would be
 * assert.equal(await csv.next(), false);
 * csv.close();
 * Deno.removeSync(path);
 * ```
 */
export class LobsterCsv {
  /** The file's path, for messages. */
  readonly path: string;
  /** Values of the row last read, the first `capacity` fields of it. */
  readonly values: Float64Array;
  /** Digits after the decimal point of each value. */
  readonly decimals: Uint8Array;
  /** Fields in the row last read; may exceed the capacity, whose values are not kept. */
  fieldCount = 0;
  /** Why a field of the row last read is not a number, undefined when all are. */
  problem: string | undefined;
  /** 1-based line of the row last read. */
  line = 0;
  /** Bytes of the file up to the end of the row last read. */
  bytesRead = 0;
  /**
   * Whether the row last read ended at the end of the file with no newline:
   * the last line of a file cut short looks so.
   */
  unterminated = false;

  readonly #file: Deno.FsFile;
  readonly #buffer: Uint8Array;
  #start = 0;
  #end = 0;
  #eof = false;
  #closed = false;

  /**
   * Reads `file` (named `path` in messages), keeping the values of up to
   * `capacity` fields a row; `bufferBytes` is the read buffer's size and
   * so the longest line accepted (1 MiB by default).
   */
  constructor(file: Deno.FsFile, path: string, capacity: number, bufferBytes = BUFFER_BYTES) {
    this.#file = file;
    this.path = path;
    this.values = new Float64Array(capacity);
    this.decimals = new Uint8Array(capacity);
    this.#buffer = new Uint8Array(bufferBytes);
  }

  /**
   * Opens the file at `path`.
   *
   * @throws {InputFileError} when it is missing, a directory, or not readable.
   */
  static async open(path: string, capacity: number): Promise<LobsterCsv> {
    return new LobsterCsv(await openInputFile(path), path, capacity);
  }

  /**
   * Reads the next row: true when there is one, false at the end of the
   * file. A boolean at once while the buffer holds the row, a promise when
   * the file must be read, so the common case costs no promise.
   *
   * @throws {InputFileError} when the file cannot be read.
   * @throws {InputLineError} when a line is longer than the buffer.
   */
  next(): boolean | Promise<boolean> {
    const got = this.#parse();
    return got === MORE ? this.#refill() : got === ROW;
  }

  /** Closes the file; the rows read stay as they are. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }

  async #refill(): Promise<boolean> {
    for (;;) {
      await this.#fill();
      const got = this.#parse();
      if (got !== MORE) return got === ROW;
    }
  }

  async #fill(): Promise<void> {
    const buffer = this.#buffer;
    if (this.#start > 0) {
      buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === buffer.length) {
      throw new InputLineError(
        `Line ${this.line + 1} of '${this.path}' is longer than ${buffer.length} bytes`,
        this.line + 1,
      );
    }
    let n: number | null;
    try {
      n = await this.#file.read(buffer.subarray(this.#end));
    } catch (error) {
      throw new InputFileError(this.path, ioReason(error), { cause: error });
    }
    if (n === null) this.#eof = true;
    else this.#end += n;
  }

  /** Parses the row at the buffer's start: ROW, MORE when it is not all there yet, or END. */
  #parse(): number {
    const buffer = this.#buffer;
    const end = this.#end;
    const eof = this.#eof;
    const values = this.values;
    const decimals = this.decimals;
    const capacity = values.length;
    const start = this.#start;
    if (start === end) return eof ? END : MORE;
    let p = start;
    let field = 0;
    let problem: string | undefined;
    let terminated = false;
    for (;;) {
      const fieldStart = p;
      let negative = false;
      let mantissa = 0;
      let digits = 0;
      let fraction = -1;
      if (p < end && buffer[p] === MINUS) {
        negative = true;
        p++;
      }
      let c = NEWLINE;
      while (p < end) {
        c = buffer[p]!;
        if (c >= ZERO && c <= NINE) {
          mantissa = mantissa * 10 + (c - ZERO);
          digits++;
          if (fraction >= 0) fraction++;
        } else if (c === DOT && fraction < 0) {
          fraction = 0;
        } else {
          break;
        }
        p++;
      }
      if (p === end) {
        if (!eof) return MORE;
        c = NEWLINE;
      }
      if (c !== COMMA && c !== NEWLINE && c !== CR) {
        // Not a number: skip to the field's end, keeping its text for the message.
        while (p < end && buffer[p] !== COMMA && buffer[p] !== NEWLINE && buffer[p] !== CR) p++;
        if (p === end && !eof) return MORE;
        problem ??= `field ${field + 1} '${fieldText(buffer, fieldStart, p)}' is not a number`;
        c = p === end ? NEWLINE : buffer[p]!;
      } else if (field === 0 && p === fieldStart && c !== COMMA) {
        // An empty line: no fields at all.
        field = -1;
      } else if (digits === 0 || fraction === 0) {
        problem ??= `field ${field + 1} '${fieldText(buffer, fieldStart, p)}' is not a number`;
      } else if (digits > MAX_DIGITS) {
        problem ??= `field ${field + 1} '${
          fieldText(buffer, fieldStart, p)
        }' has more than ${MAX_DIGITS} digits`;
      }
      if (field >= 0 && field < capacity) {
        values[field] = negative ? -mantissa : mantissa;
        decimals[field] = fraction < 0 ? 0 : fraction;
      }
      field++;
      if (c === COMMA) {
        p++;
        continue;
      }
      if (c === CR) {
        // A line may end with CRLF; a CR anywhere else ends the row as a fault.
        p++;
        if (p === end && !eof) return MORE;
        if (p < end) {
          if (buffer[p] === NEWLINE) {
            p++;
            terminated = true;
          } else {
            problem ??= `field ${field} ends with a carriage return that no newline follows`;
          }
        }
      } else if (p < end) {
        // The newline: the end of the file is the only other way here.
        p++;
        terminated = true;
      }
      break;
    }
    this.unterminated = !terminated;
    this.fieldCount = field;
    this.problem = problem;
    this.line++;
    this.bytesRead += p - start;
    this.#start = p;
    return ROW;
  }
}

function fieldText(buffer: Uint8Array, from: number, to: number): string {
  const text = new TextDecoder().decode(buffer.subarray(from, Math.min(to, from + 40)));
  return to - from > 40 ? `${text}…` : text;
}
