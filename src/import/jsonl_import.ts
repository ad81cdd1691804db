/**
 * Importing JSON lines: one record per line in the form `tail --json` and
 * `replay --json` print (see `src/stream/json_record.ts`), so the output of
 * either can be imported back.
 *
 * @module
 */

import { parseJsonRecord } from "../stream/mod.ts";
import { InputLineError } from "./import_error.ts";
import type { ImportSummary } from "./import_summary.ts";
import { InputLines } from "./input_lines.ts";
import { type ImportOptions, type ImportRecord, importRecords } from "./queue_import.ts";

/**
 * The records of JSON lines, numbered by line. Blank lines are skipped; a
 * line that is not a record is an {@linkcode InputLineError} naming what is
 * wrong with it.
 *
 * @param bytesRead tells how many input bytes have been read, for progress
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonRecords } from "./jsonl_import.ts";
 * async function* lines() {
 *   yield '{"seq":1,"type_id":7,"payload":"hi"}';
 *   yield "";
 *   yield '{"seq":2,"encoding":"base64","payload":"/w=="}';
 * }
 * const seen: unknown[] = [];
 * for await (const r of jsonRecords(lines())) seen.push([r.line, r.seq, r.payload]);
 * assert.deepEqual(seen, [[1, 1, new TextEncoder().encode("hi")], [3, 2, new Uint8Array([0xff])]]);
 * ```
 */
export async function* jsonRecords(
  lines: AsyncIterable<string>,
  bytesRead: () => number = () => 0,
): AsyncIterableIterator<ImportRecord> {
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === "") continue;
    let record;
    try {
      record = parseJsonRecord(text);
    } catch (error) {
      throw new InputLineError((error as Error).message, line, { cause: error });
    }
    yield { line, bytesRead: bytesRead(), ...record };
  }
}

/**
 * Imports JSON lines into a queue; see {@linkcode importRecords} for the
 * checks and what happens on a fault.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importJsonLines } from "./jsonl_import.ts";
 * async function* lines() {
 *   yield '{"timestamp_ns":1700000000000000000,"type_id":1,"payload":{"px":101.5}}';
 *   yield '{"timestamp_ns":1700000000000000001,"type_id":1,"payload":{"px":101.25}}';
 * }
 * const dir = Deno.makeTempDirSync();
 * const summary = await importJsonLines(lines(), { to: `${dir}/q` });
 * assert.equal(summary.records, 2);
 * assert.deepEqual(summary.seqs, { first: 1, last: 2 });
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function importJsonLines(
  lines: AsyncIterable<string>,
  options: ImportOptions,
): Promise<ImportSummary> {
  return importRecords(jsonRecords(lines), options);
}

/**
 * Imports a file of JSON lines, or stdin for `-`, into a queue; errors name
 * the file (or `stdin`) and the line. See {@linkcode importRecords}.
 *
 * @throws {InputFileError} when the file cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importJsonlFile } from "./jsonl_import.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/in.jsonl`, '{"seq":10,"payload":"a"}\n{"seq":11,"payload":"b"}\n');
 * const summary = await importJsonlFile(`${dir}/in.jsonl`, { to: `${dir}/q` });
 * assert.deepEqual(summary.seqs, { first: 10, last: 11 });
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function importJsonlFile(
  path: string,
  options: ImportOptions,
): Promise<ImportSummary> {
  const lines = path === "-" ? InputLines.stdin() : await InputLines.open(path);
  return await importRecords(jsonRecords(lines, () => lines.bytesRead), {
    ...options,
    source: options.source ?? (path === "-" ? "stdin" : path),
  });
}
