/**
 * Storage in a tape: the writer stage records each message as a frame
 * through a `TapeWriter`, so the tape's durability paces the source, and
 * the engine's close ends the tape.
 *
 * @module
 */

import { copyMessage, type StreamMessage } from "../stream/stream_message.ts";
import { TAPE_TYPE_S2C } from "../stream/tape_message.ts";
import { lineToFrame } from "../tape/text_frame.ts";
import { type FrameInput, LineTooLongError, type TapeWriter } from "../tape/mod.ts";
import type { Storage } from "./storage.ts";

/** What {@linkcode tapeStorage} needs of a `TapeWriter`. */
export type TapeStorageWriter = Pick<TapeWriter, "path" | "append" | "finalize" | "fail">;

/** Options of {@linkcode tapeStorage}. */
export interface TapeStorageOptions {
  /**
   * Makes the frame recorded for a message, or `undefined` to record
   * nothing. Called during the write, while the message is still valid.
   * Default {@linkcode messageToFrame}.
   */
  toFrame?: (message: StreamMessage) => FrameInput | undefined;
  /**
   * Told about a frame the tape refused because its line would be over the
   * tape's limit; nothing was written and the recording goes on. Without
   * it, such a refusal fails the engine like any other write error.
   */
  onRefused?: (error: LineTooLongError, frame: FrameInput) => void;
  /**
   * Appends that may wait for the tape's durability at once before a write
   * waits too. Default 1: each write waits for its frame to be as durable
   * as the tape asks. More lets `fsync` commit frames in groups (one
   * fdatasync for many); an append that fails after its write returned is
   * then reported by the next write, or by the close.
   */
  inFlight?: number;
  /**
   * Told at once when an append fails, before the engine learns of it (at
   * the next write or the close): a recorder reading a quiet input can say
   * so without waiting for the next message.
   */
  onFailure?: (error: unknown) => void;
}

// A leading byte order mark is part of the message: the default decoder drops it.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The default frame of a message: the payload read as the tape's stream
 * mapping writes it (the envelope's JSON text, or the raw line of a `text`
 * frame), in direction `s2c` for type 2 and `c2s` for any other type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageToFrame } from "./tape_storage.ts";
 * const payload = new TextEncoder().encode('{"id":1}');
 * assert.deepEqual(messageToFrame({ seq: 1, timestampNs: 0n, typeId: 2, payload }), {
 *   dir: "s2c",
 *   env: { id: 1 },
 *   envJson: '{"id":1}',
 * });
 * ```
 */
export function messageToFrame(message: StreamMessage): FrameInput {
  const dir = message.typeId === TAPE_TYPE_S2C ? "s2c" : "c2s";
  return lineToFrame(decoder.decode(message.payload), dir);
}

/**
 * A storage that records each message the engine stores as a frame of the
 * tape `writer` writes. A write returns the append's promise once
 * `inFlight` appends wait, so with `flush` or `fsync` durability the engine
 * pulls the source no faster than the tape makes frames durable. The
 * reader hands back a copy of each message handed to the tape, in order
 * (the source's seq and time: the frame's own are given by the tape).
 *
 * Closing the storage (the engine does, when it closes) waits for the
 * appends still in flight, then finalizes the tape; after a failed append
 * it ends the tape with `fail` instead, so the meta file keeps the error.
 * A failure the engine has not seen yet (an append that failed after its
 * write returned, a finalization that failed) is thrown by the close.
 * Afterwards `writer.fail(error)` returns the tape's last meta in every
 * case; `writer.finalize()` does too unless the tape failed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { Engine, linesSource, tapeStorage } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const writer = await TapeWriter.create(dir);
 * const input = new Blob(['{"jsonrpc":"2.0","method":"hi"}\nplain text\n']).stream();
 * for await (const _ of new Engine(linesSource(input), { storage: tapeStorage(writer) }));
 * const meta = await writer.finalize();
 * assert.equal(meta.status, "finalized");
 * assert.equal(meta.stats.frame_count, 2);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function tapeStorage(writer: TapeStorageWriter, options: TapeStorageOptions = {}): Storage {
  const toFrame = options.toFrame ?? messageToFrame;
  const onRefused = options.onRefused;
  const onFailure = options.onFailure;
  const limit = options.inFlight ?? 1;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`Option 'inFlight' must be a whole number of at least 1, not '${limit}'`);
  }
  let stored: (StreamMessage | undefined)[] = [];
  let head = 0;
  let inFlight = 0;
  let failure: { error: unknown; reported: boolean } | undefined;
  // Told when an append settles: a write waiting for room, or the close.
  let waiters: (() => void)[] = [];

  const settled = () => {
    for (const resolve of waiters.splice(0)) resolve();
  };
  const nextSettled = () => new Promise<void>((resolve) => waiters.push(resolve));
  const throwFailure = (): never => {
    failure!.reported = true;
    throw failure!.error;
  };
  const room = async () => {
    while (inFlight >= limit && failure === undefined) await nextSettled();
    if (failure !== undefined) throwFailure();
  };

  return {
    name: writer.path,
    writer: {
      write(message) {
        if (failure !== undefined) throwFailure();
        const frame = toFrame(message);
        if (frame === undefined) return;
        inFlight++;
        let appending: Promise<unknown>;
        try {
          appending = writer.append(frame);
        } catch (error) {
          appending = Promise.reject(error);
        }
        appending.then(
          () => {
            inFlight--;
            settled();
          },
          (error: unknown) => {
            inFlight--;
            if (error instanceof LineTooLongError && onRefused !== undefined) {
              onRefused(error, frame);
            } else if (failure === undefined) {
              failure = { error, reported: false };
              onFailure?.(error);
            }
            settled();
          },
        );
        stored.push(copyMessage(message));
        // Returning nothing while there is room lets the engine pull on at once.
        return inFlight < limit ? undefined : room();
      },
      async close() {
        while (inFlight > 0) await nextSettled();
        waiters = [];
        if (failure === undefined) {
          await writer.finalize();
          return;
        }
        await writer.fail(failure.error);
        if (!failure.reported) throwFailure();
      },
    },
    reader: {
      read() {
        if (head === stored.length) return undefined;
        const message = stored[head];
        stored[head++] = undefined;
        if (head * 2 >= stored.length && head >= 1024) {
          stored = stored.slice(head);
          head = 0;
        }
        return message;
      },
      close() {
        stored = [];
        head = 0;
      },
    },
  };
}
