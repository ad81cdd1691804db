import assert from "node:assert/strict";
import { frameDelay, Pacer, pacingSchedule } from "../src/replay/pacing.ts";

Deno.test("pacingSchedule divides recorded gaps by the speed", () => {
  assert.deepEqual(pacingSchedule([100, 200, 400], { speed: 1, maxGapMs: 1000 }), [0, 100, 300]);
  assert.deepEqual(pacingSchedule([100, 200, 400], { speed: 2, maxGapMs: 1000 }), [0, 50, 150]);
  assert.deepEqual(pacingSchedule([0, 10], { speed: 0.5, maxGapMs: 1000 }), [0, 20]);
});

Deno.test("pacingSchedule caps idle gaps at maxGapMs after scaling", () => {
  assert.deepEqual(
    pacingSchedule([0, 5_000, 5_010, 65_010], { speed: 1, maxGapMs: 1000 }),
    [0, 1000, 1010, 2010],
  );
  assert.deepEqual(pacingSchedule([0, 5_000], { speed: 10, maxGapMs: 1000 }), [0, 500]);
  assert.deepEqual(pacingSchedule([0, 5_000, 9_000], { speed: 1, maxGapMs: 0 }), [0, 0, 0]);
});

Deno.test("frameDelay never waits for the first frame or for out-of-order timestamps", () => {
  assert.equal(frameDelay(undefined, 12_345, { speed: 1, maxGapMs: 1000 }), 0);
  assert.equal(frameDelay(50, 40, { speed: 1, maxGapMs: 1000 }), 0);
});

Deno.test("pacing rejects a speed that is not positive and a negative gap", () => {
  assert.throws(() => frameDelay(0, 1, { speed: 0, maxGapMs: 1 }), RangeError);
  assert.throws(() => frameDelay(0, 1, { speed: -2, maxGapMs: 1 }), /positive number, got '-2'/);
  assert.throws(() => frameDelay(0, 1, { speed: 1, maxGapMs: -1 }), RangeError);
});

Deno.test("Pacer sleeps until each frame's offset on the schedule", async () => {
  let now = 0;
  const sleeps: number[] = [];
  const pacer = new Pacer({ speed: 2, maxGapMs: 1000 }, {
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  });
  await pacer.wait(100); // first frame: at once
  now += 10; // emitting took 10 ms of the next 50 ms gap
  await pacer.wait(200);
  await pacer.wait(10_200); // capped to 1000
  assert.deepEqual(sleeps, [40, 1000]);
});
