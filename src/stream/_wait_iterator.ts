/**
 * The async iterator of a stream whose `wait()` tells the end: messages that
 * are ready cost one resolved promise each, and the iterator waits only when
 * none is. Written out rather than as an async generator, which costs a
 * promise and a generator step per message.
 *
 * @module
 */

import type { StreamMessage } from "./stream_message.ts";

/** What the iterator needs of a stream. */
interface Waitable {
  next(): StreamMessage | undefined;
  wait(): Promise<boolean>;
}

const DONE: IteratorResult<StreamMessage> = { done: true, value: undefined };

/** Iterates `reader`'s messages until its `wait()` resolves false. */
export function waitingIterator(reader: Waitable): AsyncIterator<StreamMessage> {
  const waitForMore = async (): Promise<IteratorResult<StreamMessage>> => {
    for (;;) {
      if (!await reader.wait()) return DONE;
      const m = reader.next();
      if (m !== undefined) return { done: false, value: m };
    }
  };
  return {
    next: (): Promise<IteratorResult<StreamMessage>> => {
      const m = reader.next();
      return m !== undefined ? Promise.resolve({ done: false, value: m }) : waitForMore();
    },
    return: (): Promise<IteratorResult<StreamMessage>> => Promise.resolve(DONE),
  };
}
