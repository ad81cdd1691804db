/**
 * Importing a stream that keeps spool's records whole, a sealed store or a
 * JetStream stream: its records go into a queue (or another store or
 * stream) with their seqs, timestamps and type ids, under the same seq
 * rules as any import.
 *
 * @module
 */

import type { Identities } from "../sealed/mod.ts";
import { openStream } from "../stream/mod.ts";
import { redactNatsUrl } from "../nats/nats_location.ts";
import { type ImportOptions, type ImportRecord, importRecords } from "./queue_import.ts";
import type { ImportSummary } from "./import_summary.ts";

/**
 * Imports every record of the stream at `location`: a sealed store
 * (`sealed:DIR`, `sqlite:FILE[#stream]`, or such a directory or file),
 * opened with the identity the program was given (`--identity`,
 * `SPOOL_IDENTITY`), or a JetStream stream (`nats://HOST:PORT/STREAM`),
 * read from its first record to the last one it held when opened. A
 * damaged store imports every record before the damage, then fails naming
 * it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity, parseIdentity, parseRecipient, SealedWriter } from "../sealed/mod.ts";
 * import { importStream } from "./stream_import.ts";
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
 * const summary = await importStream(`sealed:${dir}/s`, {
 *   to: `${dir}/q`,
 *   identities: { keys: [parseIdentity(identity, "example")], source: "example" },
 * });
 * assert.deepEqual(summary.seqs, { first: 4, last: 4 });
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function importStream(
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
    // Messages name a JetStream stream without its password or token.
    const source = rest.source ?? redactNatsUrl(location);
    return await importRecords(records(), { ...rest, source });
  } finally {
    reader.close();
  }
}
