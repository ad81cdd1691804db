/**
 * The tape writer's lines built as text: a frame's line from its parts and
 * a correlation record's line, without serializing objects, because
 * building them is most of what an append costs.
 *
 * @module
 */

import type { CorrelationRecord, Direction, FrameAction } from "./types.ts";

// Constant pieces of a frame line, so building one takes fewer concatenations.
const DIR_JSON: Record<Direction, string> = {
  c2s: ',"dir":"c2s","env":',
  s2c: ',"dir":"s2c","env":',
};
const ACTION_JSON: Record<FrameAction, string> = {
  request: ',"action":"request"',
  notification: ',"action":"notification"',
  response: ',"action":"response"',
  error: ',"action":"error"',
  message: ',"action":"message"',
  text: ',"action":"text"',
};

/** Longest {@linkcode correlationMember} can be: seq is at most 2^53. */
export const MAX_CORRELATION_MEMBER = 41;

/**
 * A frame's line up to its `correlation_id`, without the closing brace.
 * Field order is part of the format: type, seq, ts, dir, env, action,
 * transport, correlation_id, flags.
 */
export function frameLineHead(
  seq: number,
  ts: number,
  dir: Direction,
  envJson: string,
  action: FrameAction,
  transport: string | undefined,
): string {
  return '{"type":"frame","seq":' + seq + ',"ts":' + msText(ts) + DIR_JSON[dir] + envJson +
    ACTION_JSON[action] +
    (transport === undefined ? "" : ',"transport":' + JSON.stringify(transport));
}

/** The `correlation_id` member of a frame line (the id is an ASCII safe id). */
export function correlationMember(correlationId: string): string {
  return ',"correlation_id":"' + correlationId + '"';
}

/** The `flags` member of a frame line, or nothing without flags. */
export function flagsMember(flags: string[] | undefined): string {
  return flags === undefined ? "" : ',"flags":' + JSON.stringify(flags);
}

/** A correlation record's line: every value but the method is a number or a safe id. */
export function correlationLine(record: CorrelationRecord): string {
  return '{"type":"correlation","id":"' + record.id + '","request_seq":' + record.request_seq +
    ',"response_seq":' + record.response_seq + ',"request_ts":' + msText(record.request_ts) +
    ',"response_ts":' + msText(record.response_ts) + ',"rtt_ms":' + msText(record.rtt_ms) +
    ',"status":"' + record.status + '"' +
    (record.method === undefined ? "" : ',"method":' + JSON.stringify(record.method)) + "}";
}

/**
 * A time in ms as JSON, to the microsecond: the same text as `String(ms)`
 * for the 3-decimal values the writer makes, built from integers because
 * converting fractional doubles to text is a measurable part of a frame.
 */
export function msText(ms: number | null): string {
  if (ms === null) return "null";
  const us = Math.round(ms * 1000);
  if (!(us >= 0 && us <= 2147483647)) return String(ms);
  const whole = (us / 1000) | 0;
  const frac = us - whole * 1000;
  if (frac === 0) return "" + whole;
  if (frac % 100 === 0) return whole + "." + frac / 100;
  if (frac % 10 === 0) return whole + (frac < 100 ? ".0" : ".") + frac / 10;
  return whole + (frac < 10 ? ".00" : frac < 100 ? ".0" : ".") + frac;
}

/** UTF-8 length of a string as `TextEncoder` would write it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    } else bytes += 3;
  }
  return bytes;
}
