/**
 * Recording traffic into tapes: the stdio proxy behind `record`, the line
 * recorder it feeds, and redaction of the recorded copy.
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
  type ProxyOptions,
  recordingEnvironment,
  type RecordOptions,
  type RecordResult,
  recordStdin,
  runStdioProxy,
  ServerStartError,
  StdinReadError,
  TapeCreateError,
} from "./stdio_proxy.ts";
