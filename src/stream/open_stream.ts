/**
 * Opens any stream by its location, telling tapes and queues apart by what
 * is on disk.
 *
 * @module
 */

import {
  queueExists,
  QueueFormatError,
  type StartPosition,
  type WaitStrategy,
} from "../chronicle/mod.ts";
import { DEFAULT_TAPES_DIR, ioMessage, TapeDirectory, TapeFormatError } from "../tape/mod.ts";
import {
  defaultIdentities,
  detectSealedStore,
  type Identities,
  parseSealedLocation,
  type SealedLocation,
  SealedStream,
} from "../sealed/mod.ts";
import { QueueStream } from "./queue_stream.ts";
import { isNatsLocation, parseNatsLocation, redactNatsUrl } from "../nats/nats_location.ts";
import { JetStreamStream } from "../nats/jetstream_stream.ts";
import type { StreamKind, StreamReader } from "./stream_reader.ts";
import { TapeStream } from "./tape_stream.ts";

/** A location that holds neither a tape nor a queue. */
export class StreamLocationError extends TypeError {
  /** The location as given. */
  readonly location: string;

  /** Builds the error. */
  constructor(message: string, location: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StreamLocationError";
    this.location = location;
  }
}

/** What a location holds, and where exactly. */
export interface StreamLocation {
  /** Tape, queue or sealed store. */
  kind: StreamKind;
  /**
   * The tape file, the queue directory, or the sealed store as
   * `sealed:DIR` or `sqlite:FILE[#stream]`.
   */
  path: string;
}

/** Options of {@linkcode openStream}. */
export interface OpenStreamOptions {
  /** Where tape ids are looked up. Default `tapes`. */
  tapesDir?: string;
  /** Only the last this many messages (then, when following, every new one). */
  last?: number;
  /** Keep reading as messages arrive. */
  follow?: boolean;
  /** A tape followed past its end: until `signal` aborts. */
  forever?: boolean;
  /** Ends following. */
  signal?: AbortSignal;
  /**
   * Queues and JetStream streams: a named reader that keeps its committed
   * position (in the queue, or as a durable consumer on the server).
   */
  name?: string;
  /** Queues only: whether the named reader holds back retention. */
  holding?: boolean;
  /**
   * Queues and JetStream streams: where to start. A seq is a spool seq in
   * both. Tapes start at their first frame.
   */
  start?: StartPosition;
  /** Queues only: how `wait` waits. */
  waitStrategy?: WaitStrategy;
  /**
   * Sealed stores only: the private keys that open them. Default the
   * program's identity file (`useIdentityFile`, `SPOOL_IDENTITY`).
   */
  identities?: Identities;
}

// The form a sealed store is named by from here on, which every program reads back.
function sealedPath(location: SealedLocation): string {
  if (location.kind === "file") return `sealed:${location.dir}`;
  return `sqlite:${location.file}${location.stream === undefined ? "" : `#${location.stream}`}`;
}

function sealedAt(location: string): SealedLocation | undefined {
  try {
    return parseSealedLocation(location);
  } catch (error) {
    if (error instanceof TypeError) {
      throw new StreamLocationError(error.message, location, { cause: error });
    }
    throw error;
  }
}

function isQueue(dir: string): boolean {
  try {
    return queueExists(dir);
  } catch (error) {
    if (error instanceof QueueFormatError) return false; // a directory of other things
    // One that cannot be read is not known to be no queue: say why it cannot.
    throw new StreamLocationError(ioMessage(error), dir, { cause: error });
  }
}

/**
 * Finds what `location` holds: a queue directory (or a bus stream
 * directory with its `queue/`, or a queue's `queue.meta`), a sealed store
 * (`sealed:DIR`, `sqlite:FILE[#stream]`, or such a directory or file
 * recognised by its header), a tape file (or its `.meta.json`), or a tape
 * id in `tapesDir`.
 *
 * @throws {StreamLocationError} when it is neither a tape nor a queue.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { locateStream } from "./open_stream.ts";
 * await assert.rejects(locateStream("/nonexistent/feed"), { name: "StreamLocationError" });
 * ```
 */
export async function locateStream(
  location: string,
  tapesDir: string = DEFAULT_TAPES_DIR,
): Promise<StreamLocation> {
  const named = sealedAt(location);
  if (named !== undefined) return { kind: "sealed", path: sealedPath(named) };
  // A JetStream stream is found by its scheme; the server says whether it exists.
  if (isNatsLocation(location)) return { kind: "jetstream", path: location };
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.stat(location);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new StreamLocationError(
        `Cannot read '${location}': ${(error as Error).message}`,
        location,
        { cause: error },
      );
    }
  }
  if (info?.isDirectory) {
    if (isQueue(location)) return { kind: "queue", path: location };
    const inner = `${location.replace(/\/+$/, "")}/queue`;
    if (isQueue(inner)) return { kind: "queue", path: inner };
    const sealed = await detectSealedStore(location);
    if (sealed !== undefined) return { kind: "sealed", path: sealedPath(sealed) };
    throw new StreamLocationError(
      `'${location}' is a directory but neither a queue nor a bus stream (it has no 'queue.meta')`,
      location,
    );
  }
  if (info !== undefined && location.split("/").at(-1) === "queue.meta") {
    const dir = location.slice(0, -"queue.meta".length) || ".";
    if (isQueue(dir)) return { kind: "queue", path: dir };
  }
  const tapeName = location.endsWith(".jsonl") || location.endsWith(".meta.json");
  if (!tapeName) {
    const sealed = await detectSealedStore(location);
    if (sealed !== undefined) return { kind: "sealed", path: sealedPath(sealed) };
  }
  if (info === undefined && location.includes("/") && !tapeName) {
    throw new StreamLocationError(`No tape or queue at '${location}'`, location);
  }
  // A file, a tape's name, or a name that may be a tape id: the tape
  // module says what is wrong with it.
  return { kind: "tape", path: await new TapeDirectory(tapesDir).resolve(location) };
}

/**
 * Opens a reader on the tape, queue or sealed store at `location`.
 *
 * @throws {StreamLocationError} when it is neither a tape nor a queue.
 * @throws {TapeOpenError} for a tape that cannot be opened.
 * @throws {QueueFormatError} for a damaged queue.
 * @throws {RangeError} for a start seq a queue or JetStream stream does not hold.
 * @throws {SealedKeyError} for a sealed store that no identity given opens.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { openStream } from "./open_stream.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
 * w.append(1, new TextEncoder().encode("hi"));
 * const stream = await openStream(dir);
 * assert.equal(stream.kind, "queue");
 * const seqs: number[] = [];
 * for await (const m of stream) seqs.push(m.seq);
 * assert.deepEqual(seqs, [1]);
 * stream.close();
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function openStream(
  location: string,
  options: OpenStreamOptions = {},
): Promise<StreamReader> {
  const found = await locateStream(location, options.tapesDir);
  const common = {
    ...(options.last === undefined ? {} : { last: options.last }),
    ...(options.follow === undefined ? {} : { follow: options.follow }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  // Where a queue or a JetStream stream starts, and the name it keeps its position under.
  const positioned = {
    ...common,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.start === undefined ? {} : { start: options.start }),
  };
  if (found.kind === "jetstream") {
    // The error keeps the location without its password or token.
    const shown = redactNatsUrl(location);
    let nats;
    try {
      nats = parseNatsLocation(found.path)!;
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      throw new StreamLocationError(error.message, shown, { cause: error });
    }
    try {
      return await JetStreamStream.open(nats, positioned);
    } catch (error) {
      // A stream the server does not have is a location error, not a file's.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new StreamLocationError(error.message, shown, { cause: error });
    }
  }
  if (found.kind === "sealed") {
    const sealed = parseSealedLocation(found.path)!;
    if (await detectSealedStore(sealed.kind === "file" ? sealed.dir : sealed.file) === undefined) {
      throw new StreamLocationError(`No sealed store at '${location}'`, location);
    }
    const identities = options.identities ?? await defaultIdentities(location);
    return await SealedStream.open(sealed, {
      ...common,
      identities: identities.keys,
      identitySource: identities.source,
    });
  }
  if (found.kind === "queue") {
    return await QueueStream.open(found.path, {
      ...positioned,
      ...(options.holding === undefined ? {} : { holding: options.holding }),
      ...(options.waitStrategy === undefined ? {} : { waitStrategy: options.waitStrategy }),
    });
  }
  try {
    return await TapeStream.open(found.path, {
      ...common,
      ...(options.forever === undefined ? {} : { forever: options.forever }),
    });
  } catch (error) {
    if (error instanceof TapeFormatError) {
      throw new StreamLocationError(
        `'${location}' is neither a tape nor a queue: ${error.message}`,
        location,
        { cause: error },
      );
    }
    throw error;
  }
}
