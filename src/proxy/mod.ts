/**
 * Recording traffic into tapes (or sealed stores): the stdio proxy behind
 * `record`, the recording of standard input behind `record --stdin`, the
 * line recorder the proxy feeds, and redaction of the recorded copy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameFromLine, parseRedactRule, Redactor } from "./mod.ts";
 * const redactor = new Redactor([parseRedactRule("$.params.token")]);
 * assert.deepEqual(
 *   frameFromLine('{"method":"x","params":{"token":"t"}}', "c2s", redactor)?.flags,
 *   ["redacted"],
 * );
 * ```
 *
 * @module
 */

export {
  parseRedactRule,
  REDACTED,
  Redactor,
  type RedactResult,
  type RedactRule,
  RedactRuleError,
} from "./redactor.ts";
export {
  frameFromLine,
  type FrameSink,
  LineRecorder,
  type LineRecorderOptions,
  REDACTED_FLAG,
} from "./line_recorder.ts";
export {
  type RecordingWriter,
  type RecordOptions,
  type RecordResult,
  type SealTo,
  TapeCreateError,
} from "./recording.ts";
export {
  type RecordingEnd,
  type RecordingInit,
  SEALED_RECORDING_VERSION,
  SealedRecording,
  type SealedRecordingOptions,
} from "./sealed_recording.ts";
export { type ProxyOptions, runStdioProxy, ServerStartError } from "./stdio_proxy.ts";
export { recordStdin, StdinReadError } from "./record_stdin.ts";
