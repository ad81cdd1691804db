/**
 * A source reading lines from a byte stream: a pipe, a socket, a file
 * being imported.
 *
 * @module
 */

import type { EngineItem } from "./engine_item.ts";
import { lineMessages, LinePuller, type LineToMessage } from "./line_puller.ts";
import type { Source } from "./source.ts";

/** Options of {@linkcode linesSource}. */
export interface LinesSourceOptions {
  /** Names the source in events and errors. Default `lines`. */
  name?: string;
  /** Type id of the default line mapping. Default 0. */
  typeId?: number;
  /** Makes a line's message. Default {@linkcode lineMessages}: non-empty lines, stamped now. */
  toMessage?: LineToMessage;
  /** Longest line kept; a longer one is dropped and an `oversize` event sent. Default 10 MiB. */
  maxLineBytes?: number;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * Each line of `readable` as a data message. The stream is read only when
 * the engine pulls, a chunk at a time, so a slow consumer leaves the rest in
 * the pipe. A stream that errors fails the engine with a `SourceError`
 * whose cause is the stream's error, after every line before it. Closing
 * the source cancels the stream. Cannot seek.
 *
 * @example Lines of a file
 * ```ts
 * import assert from "node:assert/strict";
 * import { Engine, linesSource } from "./mod.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "one\ntwo\n");
 * const file = await Deno.open(path);
 * const engine = new Engine(linesSource(file.readable, { name: path }));
 * const lines: string[] = [];
 * for await (const item of engine) {
 *   if (item.kind === "data") lines.push(new TextDecoder().decode(item.message.payload));
 * }
 * assert.deepEqual(lines, ["one", "two"]);
 * Deno.removeSync(path);
 * ```
 */
export function linesSource(
  readable: ReadableStream<Uint8Array>,
  options: LinesSourceOptions = {},
): Source {
  const toMessage = options.toMessage ?? lineMessages(options.typeId ?? 0);
  let puller: LinePuller | undefined;
  let closed = false;
  let lines: Uint8Array[] = [];
  let index = 0;
  let seq = 0;
  const oversize: number[] = [];

  const next = async (): Promise<IteratorResult<EngineItem>> => {
    for (;;) {
      if (closed || puller === undefined) return DONE;
      const bytes = oversize.shift();
      if (bytes !== undefined) {
        return { done: false, value: { kind: "event", name: "oversize", detail: { bytes } } };
      }
      while (index < lines.length) {
        const message = toMessage(lines[index++]!, seq + 1);
        if (message !== undefined) {
          seq++;
          return { done: false, value: { kind: "data", message } };
        }
      }
      const got = await puller.pull();
      if (got === null) return oversize.length > 0 ? next() : DONE;
      lines = got;
      index = 0;
    }
  };

  return {
    name: options.name ?? "lines",
    start() {
      puller = new LinePuller(readable, {
        ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
        onOversize: (bytes) => oversize.push(bytes),
      });
      return { next };
    },
    async close() {
      if (closed) return;
      closed = true;
      if (puller !== undefined) await puller.cancel();
      else if (!readable.locked) await readable.cancel().catch(() => {});
    },
  };
}
