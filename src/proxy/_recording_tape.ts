/**
 * The tape of a recording (or the sealed store it goes into), from its
 * creation to its end, and what both ways of recording run with.
 *
 * @module
 */

import {
  ioReason,
  type TapeEnvironment,
  type TapeMeta,
  TapeWriter,
  type TapeWriterOptions,
  writeTextSync,
} from "../tape/mod.ts";
import {
  type RecordingWriter,
  type RecordOptions,
  type RecordResult,
  type SealTo,
  TapeCreateError,
} from "./recording.ts";
import { SealedRecording } from "./sealed_recording.ts";

/** The signals that stop a recording: `--stdin` ends on them, the proxy passes them on. */
export const RECORDING_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** How much of standard input one read takes. */
export const STDIN_READ_BYTES = 64 * 1024;

/** The one line told when recording stops: why (`error`), and what happens next. */
export type StopLine = (error: unknown, path: string) => string;

/**
 * The tape being recorded. The first error stops the recording for good:
 * it is told on one line and the tape is marked `error`; later errors are
 * not told. Ending it finalizes the tape, or returns the failed one.
 */
export class RecordingTape {
  /** The writer of the tape, or of the sealed store. */
  readonly writer: RecordingWriter;
  #log: (line: string) => void;
  #quiet: boolean;
  #stopLine: StopLine;
  #closingLine: (meta: TapeMeta, path: string) => string;
  #failed: Promise<TapeMeta> | undefined;

  private constructor(
    writer: RecordingWriter,
    options: RecordOptions,
    stopLine: StopLine,
    closingLine: (meta: TapeMeta, path: string) => string,
  ) {
    this.writer = writer;
    this.#log = options.log ?? logToStderr;
    this.#quiet = options.quiet ?? false;
    this.#stopLine = stopLine;
    this.#closingLine = closingLine;
  }

  /**
   * Creates the tape in `options.out`, or starts the recording in the
   * sealed store `options.sealTo`; `environment` is merged over what the
   * writer finds itself.
   *
   * @throws {TapeCreateError} when the tape cannot be created.
   * @throws what `SealedRecording.open` throws when the store cannot be opened.
   */
  static async create(
    options: RecordOptions,
    stopLine: StopLine,
    environment?: TapeEnvironment,
  ): Promise<RecordingTape> {
    if (options.sealTo !== undefined) {
      return await RecordingTape.#seal(options.sealTo, options, stopLine, environment);
    }
    const writerOptions: TapeWriterOptions = {
      transport: "stdio",
      ...options.writer,
      durability: options.durability ?? "flush",
      tags: options.tags ?? [],
    };
    if (environment !== undefined) writerOptions.environment = environment;
    if (options.name !== undefined) writerOptions.name = options.name;
    if (options.description !== undefined) writerOptions.description = options.description;
    try {
      return new RecordingTape(
        await TapeWriter.create(options.out, writerOptions),
        options,
        stopLine,
        (meta, path) =>
          `tape ${meta.tape_id} finalized: ${meta.stats.frame_count} frames → ${path}`,
      );
    } catch (error) {
      // The writer wraps the OS error; its cause says what went wrong.
      const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
      throw new TapeCreateError(options.out, ioReason(cause), { cause: error });
    }
  }

  static async #seal(
    sealTo: SealTo,
    options: RecordOptions,
    stopLine: StopLine,
    environment: TapeEnvironment | undefined,
  ): Promise<RecordingTape> {
    const { maxLineBytes, flushIntervalMs, tapeId, transport } = options.writer ?? {};
    const recording = await SealedRecording.open(sealTo.location, {
      recipients: sealTo.recipients,
      durability: options.durability ?? "flush",
      tags: options.tags ?? [],
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.description === undefined ? {} : { description: options.description }),
      ...(environment === undefined ? {} : { environment }),
      ...(maxLineBytes === undefined ? {} : { maxLineBytes }),
      ...(flushIntervalMs === undefined ? {} : { flushIntervalMs }),
      ...(tapeId === undefined ? {} : { tapeId }),
      ...(transport === undefined ? {} : { transport }),
    });
    return new RecordingTape(
      recording,
      options,
      stopLine,
      (meta, path) =>
        `tape ${meta.tape_id} sealed: ${meta.stats.frame_count} frames → ${path}, run ${recording.run}`,
    );
  }

  /** Whether recording has stopped on an error. */
  get failed(): boolean {
    return this.#failed !== undefined;
  }

  /** Stops recording because of `error`, once. */
  fail(error: unknown): void {
    if (this.#failed !== undefined) return;
    this.#log(this.#stopLine(error, this.writer.path));
    this.#failed = this.writer.fail(error);
  }

  /**
   * Ends the tape: finalizes it (told on one line unless quiet), or, when
   * recording stopped or finalizing fails, leaves it marked `error` and
   * turns a `code` of 0 into 1.
   */
  async finish(code: number): Promise<RecordResult> {
    const path = this.writer.path;
    if (this.#failed === undefined) {
      try {
        const meta = await this.writer.finalize();
        if (!this.#quiet) this.#log(this.#closingLine(meta, path));
        return { code, meta, path };
      } catch (error) {
        this.fail(error);
      }
    }
    const meta = await this.#failed!;
    // The recorded side's own failure wins; otherwise the lost recording is the failure.
    return { code: code === 0 ? 1 : code, meta, path };
  }
}

function logToStderr(line: string): void {
  writeTextSync(`record: ${line}\n`);
}
