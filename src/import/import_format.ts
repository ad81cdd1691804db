/**
 * Which format an input is in, when the user does not say: a tape starts
 * with its `init` record, anything else is read as JSON lines.
 *
 * @module
 */

import { ioReason, readTapeHead, TapeFormatError, TapeOpenError } from "../tape/mod.ts";
import { InputFileError } from "./import_error.ts";
import { openInputFile } from "./input_lines.ts";
import { detectSealedStore, parseSealedLocation } from "../sealed/mod.ts";
import { isNatsLocation } from "../nats/nats_location.ts";

/** Input formats `import` reads. */
export const IMPORT_FORMATS = [
  "jsonl",
  "tape",
  "sealed",
  "jetstream",
  "lobster",
  "tardis-book",
  "tardis-trades",
] as const;

/** The formats of market data, imported as book events (`docs/book-protocol.md`). */
export const VENDOR_FORMATS: readonly ImportFormat[] = ["lobster", "tardis-book", "tardis-trades"];

/** One of {@linkcode IMPORT_FORMATS}. */
export type ImportFormat = typeof IMPORT_FORMATS[number];

/**
 * The format of the input at `path`: `jetstream` for a JetStream stream
 * (`nats://…`, `tls://…`), `sealed` for a sealed store (named
 * `sealed:DIR` or `sqlite:FILE`, or recognised by its header), `tape` when
 * its first line is a tape's `init` record, `jsonl` otherwise: an empty file, and a pipe (such as
 * `<(zcat x.gz)`), which cannot be read twice, so is not looked into.
 *
 * @throws {InputFileError} when the file cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectFormat } from "./import_format.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".jsonl" });
 * Deno.writeTextFileSync(path, '{"seq":1,"payload":"a"}\n');
 * assert.equal(await detectFormat(path), "jsonl");
 * Deno.writeTextFileSync(path, '{"type":"init","version":1,"tape_id":"t1","session_id":"s","created_at":"2026-11-22T03:15:00Z","protocol_version":null}\n');
 * assert.equal(await detectFormat(path), "tape");
 * assert.equal(await detectFormat("nats://127.0.0.1:4222/QUOTES"), "jetstream");
 * Deno.removeSync(path);
 * ```
 */
export async function detectFormat(path: string): Promise<ImportFormat> {
  if (isNatsLocation(path)) return "jetstream";
  if (parseSealedLocation(path) !== undefined || await detectSealedStore(path) !== undefined) {
    return "sealed";
  }
  using file = await openInputFile(path);
  if (!(await file.stat()).isFile) return "jsonl";
  try {
    await readTapeHead(file, path);
    return "tape";
  } catch (error) {
    if (error instanceof TapeFormatError) return "jsonl";
    if (error instanceof TapeOpenError) {
      throw new InputFileError(path, ioReason(error.cause), { cause: error });
    }
    throw error;
  }
}
