/**
 * The SQLite store of `sqlite:FILE#stream` (`node:sqlite`): one row per
 * unit, keyed by (stream, run, index), index −1 being the run header. A
 * committed group of units is one transaction, so units are whole or
 * absent, never torn; they are still checked as a file store's are, in
 * (run, index) order. One writer at a time holds `flock(2)` on the
 * database file; a file may hold several streams.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { CommitQueue } from "./commit_queue.ts";
import { SealedFormatError } from "./sealed_errors.ts";
import type { SealedSink, SealedSource } from "./sealed_sink.ts";
import { DEFAULT_STREAM, SQLITE_TABLE } from "./store_location.ts";
import { StoreLock, WriterProbe } from "./store_lock.ts";
import { scanStore, type StoreState, StoreWalker, type UnitSource } from "./store_scan.ts";

const DIR_MODE = 0o700;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${SQLITE_TABLE} (
  stream TEXT NOT NULL, run INTEGER NOT NULL, idx INTEGER NOT NULL,
  unit BLOB NOT NULL,
  PRIMARY KEY (stream, run, idx)) WITHOUT ROWID`;

interface Unit {
  run: number;
  index: number;
  unit: Uint8Array;
}

interface Row extends Unit {
  position: number;
}

/**
 * The units of one stream of a SQLite store, in (run, index) order.
 * Positions are the units' ordinal numbers (0 for the first); they are
 * read in order, each row fetched by a seek on its key, so a store that
 * grows gives more units later.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 * import { SqliteUnits } from "./sqlite_store.ts";
 * const db = new DatabaseSync(":memory:");
 * db.exec("CREATE TABLE spool_sealed_units (stream TEXT NOT NULL, run INTEGER NOT NULL, idx INTEGER NOT NULL, unit BLOB NOT NULL, PRIMARY KEY (stream, run, idx)) WITHOUT ROWID");
 * db.prepare("INSERT INTO spool_sealed_units VALUES ('s', 0, -1, ?)").run(new Uint8Array([1, 2, 3]));
 * const units = new SqliteUnits(db, "s", "mem#s");
 * assert.deepEqual([...units.read(0, 2)], [1, 2]);
 * assert.deepEqual(units.keyAt(0), { run: 0, index: -1 });
 * assert.equal(units.read(units.after(0), 1).length, 0);
 * db.close();
 * ```
 */
export class SqliteUnits implements UnitSource {
  /** `FILE#stream`, for messages. */
  readonly path: string;
  /** Rows are whole or absent. */
  readonly tearable = false;
  readonly #stream: string;
  readonly #first: StatementSync;
  readonly #next: StatementSync;
  readonly #count: StatementSync;
  #row: Row | undefined;

  /** Units of `stream` in the open database `db` (which the caller closes). */
  constructor(db: DatabaseSync, stream: string, path: string) {
    this.path = path;
    this.#stream = stream;
    const columns = `SELECT run, idx, unit FROM ${SQLITE_TABLE}`;
    this.#first = db.prepare(`${columns} WHERE stream = ? ORDER BY run, idx LIMIT 1`);
    this.#next = db.prepare(
      `${columns} WHERE stream = ? AND (run, idx) > (?, ?) ORDER BY run, idx LIMIT 1`,
    );
    this.#count = db.prepare(`SELECT count(*) AS n FROM ${SQLITE_TABLE} WHERE stream = ?`);
  }

  /** Up to `length` bytes of the unit at ordinal `position`; empty when there is none yet. */
  read(position: number, length: number): Uint8Array {
    return this.#rowAt(position)?.unit.subarray(0, length) ?? new Uint8Array(0);
  }

  /** The next ordinal. */
  after(position: number): number {
    return position + 1;
  }

  /** The number of units of the stream. */
  end(): number {
    return Number((this.#count.get(this.#stream) as { n: number }).n);
  }

  /** Rows have no unwritten tail. */
  zeroFrom(): boolean {
    return false;
  }

  /** The row key of the unit at `position`. */
  keyAt(position: number): { run: number; index: number } | undefined {
    const row = this.#rowAt(position);
    return row === undefined ? undefined : { run: row.run, index: row.index };
  }

  #rowAt(position: number): Row | undefined {
    const held = this.#row;
    if (held?.position === position) return held;
    let found: Record<string, unknown> | undefined;
    if (position === 0) {
      found = this.#first.get(this.#stream);
    } else if (held?.position === position - 1) {
      found = this.#next.get(this.#stream, held.run, held.index);
    } else {
      throw new RangeError(`Units of '${this.path}' are read in order: ${position} is out of turn`);
    }
    if (found === undefined) return undefined;
    const unit = found.unit;
    this.#row = {
      position,
      run: Number(found.run),
      index: Number(found.idx),
      // A value that is not a blob is no unit: one byte no unit starts
      // with makes the walk report it as damage, with its key.
      unit: unit instanceof Uint8Array ? unit : Uint8Array.of(0xff),
    };
    return this.#row;
  }
}

/**
 * The writer's side of a SQLite store: holds the lock on the database
 * file, and inserts each committed group of units in one transaction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SqliteSink } from "./sqlite_store.ts";
 * const dir = Deno.makeTempDirSync();
 * const sink = await SqliteSink.open(`${dir}/s.db`, "quotes");
 * assert.equal(sink.path, `${dir}/s.db#quotes`);
 * assert.equal(Deno.statSync(`${dir}/s.db`).mode! & 0o777, 0o600);
 * await assert.rejects(SqliteSink.open(`${dir}/s.db`, "other"), { name: "SealedLockedError" });
 * sink.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class SqliteSink implements SealedSink {
  /** `FILE#stream`, for messages. */
  readonly path: string;
  /** What the walk at open found. */
  readonly state: StoreState;
  readonly #db: DatabaseSync;
  readonly #lock: StoreLock;
  readonly #stream: string;
  readonly #insert: StatementSync;
  readonly #commits: CommitQueue<Unit>;

  private constructor(
    path: string,
    db: DatabaseSync,
    lock: StoreLock,
    stream: string,
    state: StoreState,
  ) {
    this.path = path;
    this.#db = db;
    this.#lock = lock;
    this.#stream = stream;
    this.state = state;
    this.#insert = db.prepare(
      `INSERT INTO ${SQLITE_TABLE} (stream, run, idx, unit) VALUES (?, ?, ?, ?)`,
    );
    this.#commits = new CommitQueue(path, (units) => this.#insertAll(units));
  }

  /**
   * Opens `stream` (default `default`) of the SQLite store `file` for
   * writing: creates the file `0600` (and a missing directory `0700`),
   * never changing the mode of what exists; takes the lock on the file;
   * creates the table; walks the stream's units.
   *
   * @throws {import("./store_lock.ts").SealedLockedError} when another writer holds the file.
   * @throws {import("./sealed_errors.ts").SealedDamageError} when the stream is damaged.
   * @throws {SealedFormatError} when the file is not a SQLite database.
   */
  static open(file: string, stream: string = DEFAULT_STREAM): Promise<SqliteSink> {
    return Promise.resolve().then(() => SqliteSink.#open(file, stream));
  }

  static #open(file: string, stream: string): SqliteSink {
    const path = `${file}#${stream}`;
    makeParent(file);
    // The lock comes first and goes last: see store_lock.ts on SQLite's locks.
    const lock = StoreLock.acquire(file);
    let db: DatabaseSync | undefined;
    try {
      db = openDatabase(file, false);
      db.exec("PRAGMA journal_mode = WAL");
      // WAL at NORMAL may lose the last transactions on power loss: a
      // commit is durable only at FULL.
      db.exec("PRAGMA synchronous = FULL");
      db.exec(CREATE_TABLE);
      const state = scanStore(new SqliteUnits(db, stream, path));
      return new SqliteSink(path, db, lock, stream, state);
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    }
  }

  /**
   * Queues a unit for the next commit under the key (`run`, `index`).
   *
   * @throws {RangeError} when `run` or `index` (−1 or more) is not a whole number.
   */
  add(unit: Uint8Array, run: number, index: number): void {
    if (!Number.isSafeInteger(run) || run < 0 || !Number.isSafeInteger(index) || index < -1) {
      throw new RangeError(`Unit key run '${run}', index '${index}' is not a unit's`);
    }
    this.#commits.add({ unit, run, index });
  }

  /** Inserts the queued units in one transaction. */
  commit(): Promise<void> {
    return this.#commits.commit();
  }

  /** Closes the database, then releases the lock. */
  close(): void {
    if (!this.#commits.close()) return;
    this.#db.close();
    this.#lock.release();
  }

  #insertAll(units: Unit[]): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const u of units) this.#insert.run(this.#stream, u.run, u.index, u.unit);
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }
}

/**
 * Opens a stream of the SQLite store `file` for reading; with no `stream`,
 * the file's only stream (`default` when it holds none yet).
 *
 * @throws {Deno.errors.NotFound} when there is no such file.
 * @throws {SealedFormatError} when the file is not a sealed SQLite store, or
 *   holds several streams and none is named.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSqliteSource, SqliteSink } from "./sqlite_store.ts";
 * const dir = Deno.makeTempDirSync();
 * (await SqliteSink.open(`${dir}/s.db`, "a")).close();
 * const source = await openSqliteSource(`${dir}/s.db`, undefined);
 * assert.equal(source.path, `${dir}/s.db#default`);
 * assert.equal(source.walker.next(), undefined);
 * source.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function openSqliteSource(
  file: string,
  stream: string | undefined,
): Promise<SealedSource> {
  const info = await Deno.stat(file).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Deno.errors.NotFound(`No sealed store at '${file}': it does not exist`);
  });
  if (!info.isFile) throw new SealedFormatError(`'${file}' is not a SQLite file`, file, 0);
  // The probe's descriptor opens before the database and closes after it.
  const probe = WriterProbe.open(file);
  let db: DatabaseSync | undefined;
  try {
    db = openDatabase(file, true);
    const name = stream === undefined ? onlyStream(db, file) : knownStream(db, file, stream);
    const path = `${file}#${name}`;
    const units = new SqliteUnits(db, name, path);
    const open = db;
    return {
      path,
      units,
      walker: new StoreWalker(units),
      writerActive: () => probe.active(),
      close: () => {
        open.close();
        probe.close();
      },
    };
  } catch (error) {
    db?.close();
    probe.close();
    throw error;
  }
}

function openDatabase(file: string, readOnly: boolean): DatabaseSync {
  let db: DatabaseSync | undefined;
  let table: unknown;
  try {
    db = new DatabaseSync(file, { readOnly });
    // WAL recovery after a writer's crash holds others off for a moment.
    db.exec("PRAGMA busy_timeout = 5000");
    // Reading the schema is what fails for a file that is not a database.
    table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(SQLITE_TABLE);
  } catch (error) {
    db?.close();
    throw new SealedFormatError(
      `'${file}' is not a SQLite database this spool can open: ${(error as Error).message}`,
      file,
      0,
      { cause: error },
    );
  }
  if (readOnly && table === undefined) {
    db.close();
    throw new SealedFormatError(
      `'${file}' is not a sealed store: it has no '${SQLITE_TABLE}' table`,
      file,
      0,
    );
  }
  return db;
}

function streamsOf(db: DatabaseSync): string[] {
  return db.prepare(`SELECT DISTINCT stream FROM ${SQLITE_TABLE} ORDER BY stream`)
    .all().map((row) => String(row.stream));
}

// A stream named by `#stream` that the file does not hold is a typo, not an
// empty stream: say which ones there are. A file with no stream at all is a
// store no writer has written yet.
function knownStream(db: DatabaseSync, file: string, stream: string): string {
  const streams = streamsOf(db);
  if (streams.length === 0 || streams.includes(stream)) return stream;
  throw new SealedFormatError(
    `'${file}' holds no stream '${stream}': it holds ${streams.map((s) => `'${s}'`).join(", ")}`,
    file,
    0,
  );
}

function onlyStream(db: DatabaseSync, file: string): string {
  const streams = streamsOf(db);
  if (streams.length <= 1) return streams[0] ?? DEFAULT_STREAM;
  throw new SealedFormatError(
    `'${file}' holds streams ${
      streams.map((s) => `'${s}'`).join(", ")
    }: name one, as in 'sqlite:${file}#${streams[0]}'`,
    file,
    0,
  );
}

function makeParent(file: string): void {
  const slash = file.lastIndexOf("/");
  if (slash <= 0) return;
  Deno.mkdirSync(file.slice(0, slash), { recursive: true, mode: DIR_MODE });
}
