/**
 * What the programs that read tapes and streams (`replay`, `tail`) share:
 * finding the tape they were pointed at and which way to read their
 * sources, choosing frames, linking responses to their requests, and
 * writing lines to a pipe that may close.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { frameMatches, openTape, RequestTracker } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * await writer.finalize();
 * const tracker = new RequestTracker();
 * const kept: number[] = [];
 * {
 *   using reader = await openTape(writer.tapeId, dir);
 *   for await (const frame of reader.frames()) {
 *     const info = tracker.observe(frame);
 *     if (frameMatches(frame, info, { dir: "s2c", methods: ["ping"] })) kept.push(frame.seq);
 *   }
 * }
 * assert.deepEqual(kept, [2]); // the response, counted as its request's method
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export * from "./frame_filter.ts";
export * from "./id_queues.ts";
export * from "./line_sink.ts";
export * from "./open_tape.ts";
export * from "./request_tracker.ts";
export * from "./source_route.ts";
