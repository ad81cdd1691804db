/**
 * Peer: SQLite in WAL mode through `node:sqlite`, `synchronous=NORMAL` (no
 * fsync per commit, only at checkpoints), one prepared INSERT of
 * `(seq, ts, type_id, payload)` run in transactions of 10,000 rows, read
 * back with one `SELECT … ORDER BY seq` iterated row by row.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { makePayload, nowNs, type Peer, type Timing } from "./peer.ts";

const ROWS_PER_TRANSACTION = 10_000;

/**
 * A SQLite WAL peer keeping its database in `dir`.
 *
 * @example
 * ```ts ignore
 * const peer = openSqliteWal(await Deno.makeTempDir());
 * console.log(await peer.append(100_000, 64), await peer.scan());
 * ```
 */
export function openSqliteWal(dir: string): Peer {
  const path = `${dir}/peer.sqlite`;
  let db: DatabaseSync | undefined;
  let written = 0;
  const version = (() => {
    const mem = new DatabaseSync(":memory:");
    const v = (mem.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
    mem.close();
    return v;
  })();
  const reset = async () => {
    db?.close();
    for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
    db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec(
      "CREATE TABLE records (seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, " +
        "type_id INTEGER NOT NULL, payload BLOB NOT NULL)",
    );
    return db;
  };
  return {
    name: `SQLite ${version} WAL`,
    scanMethod: "node:sqlite, SELECT … ORDER BY seq, iterate()",
    appendMethod: `node:sqlite, synchronous=NORMAL, ${
      ROWS_PER_TRANSACTION.toLocaleString("en-US")
    } rows/txn`,
    async append(count: number, payloadBytes: number): Promise<Timing> {
      const d = await reset();
      const payload = makePayload(payloadBytes);
      const insert = d.prepare(
        "INSERT INTO records (seq, ts, type_id, payload) VALUES (?, ?, ?, ?)",
      );
      const t0 = performance.now();
      for (let start = 1; start <= count; start += ROWS_PER_TRANSACTION) {
        const end = Math.min(count, start + ROWS_PER_TRANSACTION - 1);
        d.exec("BEGIN");
        for (let seq = start; seq <= end; seq++) insert.run(seq, nowNs(), 1, payload);
        d.exec("COMMIT");
      }
      const seconds = (performance.now() - t0) / 1000;
      written = count;
      return { records: count, payloadBytes: count * payloadBytes, seconds };
    },
    scan(): Promise<Timing> {
      if (db === undefined) throw new Error("Nothing appended yet");
      const select = db.prepare("SELECT seq, type_id, payload FROM records ORDER BY seq");
      const t0 = performance.now();
      let records = 0;
      let payloadTotal = 0;
      let checksum = 0;
      for (const row of select.iterate() as Iterable<{ seq: number; payload: Uint8Array }>) {
        checksum += row.seq + row.payload[0]!;
        payloadTotal += row.payload.length;
        records++;
      }
      const seconds = (performance.now() - t0) / 1000;
      if (records !== written || checksum === 0) {
        throw new Error(`SQLite scan read '${records}' records, expected '${written}'`);
      }
      return Promise.resolve({ records, payloadBytes: payloadTotal, seconds });
    },
    async close(): Promise<void> {
      db?.close();
      db = undefined;
      for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
    },
  };
}
