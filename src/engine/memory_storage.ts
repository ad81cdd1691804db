/**
 * Storage in this process's memory: a first-in first-out list of owned
 * copies. The engine bounds how many it holds.
 *
 * @module
 */

import { copyMessage, type StreamMessage } from "../stream/stream_message.ts";
import type { Storage } from "./storage.ts";

// Read slots are cleared at once (so their payloads can be collected) and
// the list compacted once they are most of it, which keeps both read and
// write O(1) amortized with no ring-size choice to make.
const COMPACT_AFTER = 1024;

/**
 * A storage in memory. The writer copies each message (its payload
 * included), so the source may reuse its buffers; the reader hands out the
 * copies, which stay valid for as long as they are kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryStorage } from "./memory_storage.ts";
 * const storage = memoryStorage();
 * const payload = new Uint8Array([1]);
 * storage.writer.write({ seq: 1, timestampNs: 0n, typeId: 0, payload });
 * payload[0] = 9;
 * assert.equal(storage.reader.read()?.payload[0], 1);
 * assert.equal(storage.reader.read(), undefined);
 * ```
 */
export function memoryStorage(): Storage {
  let items: (StreamMessage | undefined)[] = [];
  let head = 0;
  return {
    name: "memory",
    writer: {
      write(message) {
        items.push(copyMessage(message));
      },
      close() {
        items = [];
        head = 0;
      },
    },
    reader: {
      read() {
        if (head === items.length) return undefined;
        const message = items[head];
        items[head++] = undefined;
        if (head >= COMPACT_AFTER && head * 2 >= items.length) {
          items.splice(0, head);
          head = 0;
        }
        return message;
      },
      close() {},
    },
  };
}
