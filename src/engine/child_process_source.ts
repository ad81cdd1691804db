/**
 * A source running a command: each line it writes to stdout is a message,
 * each line to stderr an event, and its exit status the last event.
 *
 * @module
 */

import type { EngineItem } from "./engine_item.ts";
import { ProcessExitError } from "./engine_errors.ts";
import { lineMessages, LinePuller, type LineToMessage } from "./line_puller.ts";
import type { Source } from "./source.ts";
import { Wakeup } from "./wakeup.ts";

/** Options of {@linkcode childProcessSource}. */
export interface ChildProcessSourceOptions {
  /** Names the source in events and errors. Default: the command. */
  name?: string;
  /** Type id of the default line mapping. Default 0. */
  typeId?: number;
  /** Makes a stdout line's message. Default: non-empty lines, stamped when read. */
  toMessage?: LineToMessage;
  /** Longest line kept; a longer one is dropped and an `oversize` event sent. Default 10 MiB. */
  maxLineBytes?: number;
  /** Working directory of the command. */
  cwd?: string;
  /** Extra environment variables of the command. */
  env?: Record<string, string>;
  /** Sent to a command still running when the engine closes. Default `SIGKILL`. */
  killSignal?: Deno.Signal;
  /**
   * After the command exits, how long a read of its pipes may wait for
   * output (a process it started may hold them open) before they are cut.
   * Default 1000 ms.
   */
  drainMs?: number;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
const DEFAULT_DRAIN_MS = 1000;

interface Line {
  stderr: boolean;
  bytes: Uint8Array;
}

type PipeState = "idle" | "reading" | "done";

/**
 * Runs `command` with `args` (stdin closed) as a source. Items, in order:
 * a `spawn` event (`{ pid }`); each stdout line as a data message and each
 * stderr line as a `stderr` event (text), interleaved as they are read;
 * after both pipes end, an `exit` event (`{ code, signal }`). An exit
 * status other than 0 then fails the engine with a `SourceError` whose
 * cause is a {@linkcode ProcessExitError}; a command that cannot start
 * fails it at once.
 *
 * Pipes are read only when the engine pulls, so a slow consumer leaves the
 * command blocked on a full pipe instead of filling memory. Closing the
 * source (the engine stopping, the consumer leaving its loop) kills a
 * command still running and waits until it is gone. Cannot seek.
 *
 * Needs `--allow-run` for the command.
 *
 * @example Lines of a child process
 * ```ts
 * import assert from "node:assert/strict";
 * import { childProcessSource, Engine } from "./mod.ts";
 * const source = childProcessSource(Deno.execPath(), ["eval", "console.log('a'); console.log('b')"]);
 * const lines: string[] = [];
 * for await (const item of new Engine(source)) {
 *   if (item.kind === "data") lines.push(new TextDecoder().decode(item.message.payload));
 * }
 * assert.deepEqual(lines, ["a", "b"]);
 * ```
 */
export function childProcessSource(
  command: string,
  args: string[] = [],
  options: ChildProcessSourceOptions = {},
): Source {
  return new ChildProcessSource(command, args, options);
}

class ChildProcessSource implements Source {
  readonly name: string;
  readonly #command: string;
  readonly #args: string[];
  readonly #options: ChildProcessSourceOptions;
  readonly #toMessage: LineToMessage;
  readonly #wakeup = new Wakeup();
  #child: Deno.ChildProcess | undefined;
  #out: LinePuller | undefined;
  #err: LinePuller | undefined;
  #outState: PipeState = "idle";
  #errState: PipeState = "idle";
  // Lines of at most one read per pipe: a pipe is read again only once
  // every line read so far was handed out.
  #lines: (Line | undefined)[] = [];
  #head = 0;
  #oversize: number[] = [];
  #failure: { error: unknown } | undefined;
  #status: Deno.CommandStatus | undefined;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #spawnReported = false;
  #exitReported = false;
  #closed = false;
  #seq = 0;
  readonly #decoder = new TextDecoder();

  constructor(command: string, args: string[], options: ChildProcessSourceOptions) {
    this.name = options.name ?? command;
    this.#command = command;
    this.#args = [...args];
    this.#options = options;
    this.#toMessage = options.toMessage ?? lineMessages(options.typeId ?? 0);
  }

  start(): AsyncIterator<EngineItem> {
    const child = new Deno.Command(this.#command, {
      args: this.#args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(this.#options.cwd === undefined ? {} : { cwd: this.#options.cwd }),
      ...(this.#options.env === undefined ? {} : { env: this.#options.env }),
    }).spawn();
    this.#child = child;
    const maxLineBytes = this.#options.maxLineBytes === undefined
      ? {}
      : { maxLineBytes: this.#options.maxLineBytes };
    const onOversize = (bytes: number) => void this.#oversize.push(bytes);
    this.#out = new LinePuller(child.stdout, { ...maxLineBytes, onOversize });
    this.#err = new LinePuller(child.stderr, { ...maxLineBytes, onOversize });
    child.status.then((status) => {
      this.#status = status;
      this.#wakeup.wake();
    });
    return { next: () => this.#next() };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeup.wake();
    const child = this.#child;
    if (child === undefined) return;
    if (this.#status === undefined) {
      try {
        child.kill(this.#options.killSignal ?? "SIGKILL");
      } catch {
        // It exited in the meantime.
      }
    }
    await Promise.all([this.#out?.cancel(), this.#err?.cancel()]);
    await child.status;
    this.#clearDrainTimer();
  }

  async #next(): Promise<IteratorResult<EngineItem>> {
    if (!this.#spawnReported) {
      this.#spawnReported = true;
      return {
        done: false,
        value: { kind: "event", name: "spawn", detail: { pid: this.#child!.pid } },
      };
    }
    for (;;) {
      if (this.#closed) return DONE;
      const bytes = this.#oversize.shift();
      if (bytes !== undefined) {
        return { done: false, value: { kind: "event", name: "oversize", detail: { bytes } } };
      }
      const line = this.#lines[this.#head];
      if (line !== undefined) {
        this.#lines[this.#head++] = undefined;
        if (this.#head === this.#lines.length) {
          this.#lines = [];
          this.#head = 0;
        }
        if (line.stderr) {
          const text = this.#decoder.decode(line.bytes);
          return { done: false, value: { kind: "event", name: "stderr", detail: text } };
        }
        const message = this.#toMessage(line.bytes, this.#seq + 1);
        if (message === undefined) continue;
        this.#seq++;
        return { done: false, value: { kind: "data", message } };
      }
      if (this.#failure !== undefined) throw this.#failure.error;
      if (this.#pipesDone()) return this.#exit();
      this.#readMore();
      if (this.#status !== undefined) this.#armDrainTimer();
      await this.#wakeup.wait();
    }
  }

  async #exit(): Promise<IteratorResult<EngineItem>> {
    this.#clearDrainTimer();
    const status = this.#status ?? await this.#child!.status;
    if (this.#closed) return DONE;
    if (!this.#exitReported) {
      this.#exitReported = true;
      const detail = { code: status.code, signal: status.signal };
      return { done: false, value: { kind: "event", name: "exit", detail } };
    }
    if (status.success) return DONE;
    throw new ProcessExitError(this.#command, status.code, status.signal);
  }

  #pipesDone(): boolean {
    return this.#outState === "done" && this.#errState === "done";
  }

  #readMore(): void {
    if (this.#outState === "idle") {
      this.#outState = "reading";
      this.#read(this.#out!, false);
    }
    if (this.#errState === "idle") {
      this.#errState = "reading";
      this.#read(this.#err!, true);
    }
  }

  #read(puller: LinePuller, stderr: boolean): void {
    const settle = (state: PipeState) => {
      if (stderr) this.#errState = state;
      else this.#outState = state;
      this.#wakeup.wake();
    };
    puller.pull().then((lines) => {
      this.#clearDrainTimer();
      if (lines === null) return settle("done");
      for (const bytes of lines) this.#lines.push({ stderr, bytes });
      settle("idle");
    }, (error) => {
      this.#failure ??= { error };
      settle("done");
    });
  }

  // The command has exited and the engine is waiting on its pipes: a
  // process it started may hold them open for good. Only armed while a read
  // is waiting, so a paused engine never loses output still in the pipe.
  #armDrainTimer(): void {
    if (this.#drainTimer !== undefined || this.#closed) return;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      this.#out?.cancel();
      this.#err?.cancel();
    }, this.#options.drainMs ?? DEFAULT_DRAIN_MS);
  }

  #clearDrainTimer(): void {
    if (this.#drainTimer === undefined) return;
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
  }
}
