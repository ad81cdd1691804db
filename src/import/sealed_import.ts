/**
 * Importing a sealed store: its records, opened with the program's
 * identity, go into a queue (or another sealed store) with their seqs,
 * timestamps and type ids, under the same seq rules as any import.
 *
 * @module
 */

import type { Identities } from "../sealed/mod.ts";
import { openStream } from "../stream/mod.ts";
import { type ImportOptions, type ImportRecord, importRecords } from "./queue_import.ts";
import type { ImportSummary } from "./import_summary.ts";

/**
 * Imports every record of the sealed store at `location` (`sealed:DIR`,
 * `sqlite:FILE[#stream]`, or such a directory or file), opened with the
 * identity the program was given (`--identity`, `SPOOL_IDENTITY`). A
 * damaged store imports every record before the damage, then fails naming
 * it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity, parseIdentity, parseRecipient, SealedWriter } from "../sealed/mod.ts";
 * import { importSealed } from "./sealed_import.ts";
 * const dir = Deno.makeTempDirSync();
 * const { identity, recipient } = await generateIdentity();
 * const writer = await SealedWriter.open({ kind: "file", dir: `${dir}/s` }, {
 *   recipients: [parseRecipient(recipient, "example")],
 *   stream: "example",
 *   producer: "example",
 *   workers: 0,
 * });
 * writer.append({ seq: 4, timestampNs: 9n, typeId: 2, payload: new Uint8Array([1]) });
 * await writer.close();
 * const summary = await importSealed(`sealed:${dir}/s`, {
 *   to: `${dir}/q`,
 *   identities: { keys: [parseIdentity(identity, "example")], source: "example" },
 * });
 * assert.deepEqual(summary.seqs, { first: 4, last: 4 });
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function importSealed(
  location: string,
  options: ImportOptions & { identities?: Identities },
): Promise<ImportSummary> {
  const { identities, ...rest } = options;
  const reader = await openStream(location, {
    ...(identities === undefined ? {} : { identities }),
  });
  async function* records(): AsyncIterableIterator<ImportRecord> {
    let n = 0;
    // A message is lent until the next one is asked for, and the import
    // appends it before asking: no copy is needed.
    for await (const m of reader) {
      n++;
      yield {
        line: n,
        bytesRead: 0,
        seq: m.seq,
        timestampNs: m.timestampNs,
        typeId: m.typeId,
        payload: m.payload,
      };
    }
  }
  try {
    return await importRecords(records(), { ...rest, source: rest.source ?? location });
  } finally {
    reader.close();
  }
}
