/**
 * Importing a tape: each frame becomes one record, mapped the way every
 * spool tool reads a tape as a stream (`src/stream/tape_message.ts`), so the
 * queue reads back as the tape did.
 *
 * @module
 */

import { TapeReader, type TapeWarning } from "../tape/mod.ts";
import { frameToMessage, tapeEpochNs } from "../stream/mod.ts";
import { InputLineError } from "./import_error.ts";
import type { ImportSummary } from "./import_summary.ts";
import { type ImportOptions, type ImportRecord, importRecords } from "./queue_import.ts";

/**
 * The frames of an open tape as records: seq and timestamp from the frame,
 * type id by direction, the envelope's exact text as the payload. Records
 * of other kinds are left out. A line that is not a record would leave a
 * frame out silently, so it is an {@linkcode InputLineError} (gaps are the
 * importer's to report; an incomplete last line, of a tape still being
 * recorded, is not read).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tapeRecords } from "./tape_import.ts";
 * import { TapeReader } from "../tape/mod.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".jsonl" });
 * Deno.writeTextFileSync(path, [
 *   '{"type":"init","version":1,"tape_id":"t1","session_id":"s","created_at":"2026-11-22T03:15:00Z","protocol_version":null}',
 *   '{"type":"frame","seq":1,"ts":0.5,"dir":"c2s","env":{"jsonrpc":"2.0","id":1,"method":"ping"}}',
 *   "",
 * ].join("\n"));
 * using reader = await TapeReader.open(path);
 * const seen: unknown[] = [];
 * for await (const r of tapeRecords(reader)) seen.push([r.line, r.seq, r.typeId, r.timestampNs]);
 * assert.deepEqual(seen, [[2, 1, 1, 1795317300000500000n]]);
 * Deno.removeSync(path);
 * ```
 */
export async function* tapeRecords(reader: TapeReader): AsyncIterableIterator<ImportRecord> {
  const epochNs = tapeEpochNs(reader.init.created_at);
  const frames = reader.rawFrames();
  for await (const raw of frames) {
    const m = frameToMessage(raw, epochNs);
    const position = frames.position;
    // The position is past the frame's line once the frame is handed out.
    yield {
      line: position.line - 1,
      bytesRead: position.offset,
      seq: m.seq,
      timestampNs: m.timestampNs,
      typeId: m.typeId,
      payload: m.payload,
    };
  }
}

/**
 * Imports the frames of the tape at `path` into a queue; see
 * {@linkcode tapeRecords} and {@linkcode importRecords}.
 *
 * @throws {TapeOpenError} when the file cannot be opened.
 * @throws {TapeFormatError} when it is not a tape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importTape } from "./tape_import.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/t.jsonl`, [
 *   '{"type":"init","version":1,"tape_id":"t1","session_id":"s","created_at":"2026-11-22T03:15:00Z","protocol_version":null}',
 *   '{"type":"frame","seq":1,"ts":0.5,"dir":"c2s","env":{"jsonrpc":"2.0","id":1,"method":"ping"}}',
 *   '{"type":"frame","seq":2,"ts":1.5,"dir":"s2c","env":{"jsonrpc":"2.0","id":1,"result":{}}}',
 *   "",
 * ].join("\n"));
 * const summary = await importTape(`${dir}/t.jsonl`, { to: `${dir}/q` });
 * assert.equal(summary.records, 2);
 * assert.deepEqual(summary.seqs, { first: 1, last: 2 });
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function importTape(path: string, options: ImportOptions): Promise<ImportSummary> {
  let bad: TapeWarning | undefined;
  using reader = await TapeReader.open(path, {
    onWarning: (warning) => {
      if (warning.kind === "bad-line") bad ??= warning;
    },
  });
  async function* checked(): AsyncIterableIterator<ImportRecord> {
    for await (const record of tapeRecords(reader)) {
      if (bad !== undefined) break;
      yield record;
    }
    if (bad !== undefined) throw badLine(bad);
  }
  return await importRecords(checked(), { ...options, source: options.source ?? path });
}

function badLine(warning: TapeWarning): InputLineError {
  // The warning's message also names the file and line, which the import's message does itself.
  const at = warning.message.lastIndexOf(` in '${warning.path}' at line`);
  const reason = at === -1 ? warning.message : warning.message.slice(0, at);
  return new InputLineError(`Not a tape record: ${reason}`, warning.line);
}
