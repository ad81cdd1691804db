/**
 * Recorded answers looked up by request method and params, the way the mock
 * server and the verifier find what to send back.
 *
 * @module
 */

import type { JsonValue } from "../tape/mod.ts";
import { canonicalJson } from "./canonical_json.ts";

/** How a lookup found its answer. */
export type MatchKind = "exact" | "method";

/** A successful lookup. */
export interface AnswerMatch<T> {
  /** The recorded answer found. */
  answer: T;
  /** `exact`: method and params deep-equal; `method`: same method only (loose matching). */
  kind: MatchKind;
}

/** Why a lookup found nothing. */
export type AnswerMiss = "unknown-method" | "no-params-match";

class Candidates<T> {
  items: T[] = [];
  next = 0;
  take(): T {
    // Recorded order first; once used up, keep answering with the last one.
    const item = this.items[Math.min(this.next, this.items.length - 1)]!;
    if (this.next < this.items.length) this.next++;
    return item;
  }
}

/**
 * Answers keyed by method and params. Several recordings of the same
 * request are handed out in recorded order, repeating the last one once
 * they run out. With `loose`, a request whose params match nothing gets the
 * answers recorded for its method, in the same way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecordedAnswers } from "./recorded_answers.ts";
 * const book = new RecordedAnswers<string>();
 * book.add("add", { a: 1 }, "first");
 * book.add("add", { a: 1 }, "second");
 * assert.deepEqual(book.find("add", { a: 1 }), { answer: "first", kind: "exact" });
 * assert.deepEqual(book.find("add", { a: 1 }), { answer: "second", kind: "exact" });
 * assert.deepEqual(book.find("add", { a: 1 }), { answer: "second", kind: "exact" });
 * assert.equal(book.find("add", { a: 2 }), "no-params-match");
 * ```
 */
export class RecordedAnswers<T> {
  #exact = new Map<string, Candidates<T>>();
  #byMethod = new Map<string, Candidates<T>>();

  /** Number of answers held. */
  get size(): number {
    let n = 0;
    for (const c of this.#byMethod.values()) n += c.items.length;
    return n;
  }

  /** Methods with at least one answer, in first-recorded order. */
  get methods(): string[] {
    return [...this.#byMethod.keys()];
  }

  /** Adds the answer recorded for a request (in recorded order). */
  add(method: string, params: JsonValue | undefined, answer: T): void {
    const k = exactKey(method, params);
    let exact = this.#exact.get(k);
    if (!exact) this.#exact.set(k, exact = new Candidates());
    exact.items.push(answer);
    let loose = this.#byMethod.get(method);
    if (!loose) this.#byMethod.set(method, loose = new Candidates());
    loose.items.push(answer);
  }

  /** Finds the next answer for a request, or says why there is none. */
  find(
    method: string,
    params: JsonValue | undefined,
    options: { loose?: boolean } = {},
  ): AnswerMatch<T> | AnswerMiss {
    const exact = this.#exact.get(exactKey(method, params));
    if (exact) return { answer: exact.take(), kind: "exact" };
    const loose = this.#byMethod.get(method);
    if (!loose) return "unknown-method";
    if (!options.loose) return "no-params-match";
    return { answer: loose.take(), kind: "method" };
  }
}

function exactKey(method: string, params: JsonValue | undefined): string {
  return `${JSON.stringify(method)} ${canonicalJson(params)}`;
}
