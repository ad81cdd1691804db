/**
 * One reader API over tapes and chronicle queues.
 *
 * @module
 */

export * from "./stream_message.ts";
export * from "./stream_reader.ts";
export * from "./json_record.ts";
export * from "./tape_message.ts";
export * from "./queue_stream.ts";
export * from "./tape_stream.ts";
export * from "./open_stream.ts";
export * from "./merged_stream.ts";
export * from "./bus_layout.ts";
export * from "./message_line.ts";
export * from "./record_target.ts";
