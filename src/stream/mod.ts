/**
 * One reader API over tapes and chronicle queues.
 *
 * @module
 */

export * from "./stream_message.ts";
export * from "./stream_reader.ts";
export * from "./json_record.ts";
export * from "./tape_message.ts";
