/**
 * Lines of text from a byte stream, such as a child's stdout or our stdin.
 *
 * @module
 */

import { LineSplitter } from "../tape/mod.ts";

/**
 * Yields each newline-terminated line of a stream (and a last unterminated
 * one), decoded as UTF-8, without the newline. Blank lines are skipped.
 * Takes any async source of byte chunks, a `ReadableStream` included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamLines } from "./stream_lines.ts";
 * const input = new Blob(["a\nb", "c\n\n"]).stream();
 * const lines: string[] = [];
 * for await (const line of streamLines(input)) lines.push(line);
 * assert.deepEqual(lines, ["a", "bc"]);
 * ```
 */
export async function* streamLines(
  stream: AsyncIterable<Uint8Array>,
): AsyncIterableIterator<string> {
  const splitter = new LineSplitter();
  // Each line is decoded on its own: the default decoder would drop a leading byte order mark.
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  for await (const chunk of stream) {
    for (const line of splitter.push(chunk)) {
      const text = decoder.decode(line);
      if (text.trim() !== "") yield text;
    }
  }
  const last = splitter.flush();
  if (last !== undefined) {
    const text = decoder.decode(last);
    if (text.trim() !== "") yield text;
  }
}
