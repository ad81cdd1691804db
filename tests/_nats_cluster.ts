/**
 * A real three-node JetStream cluster on loopback ports for the fault tests:
 * each node has its own store, and any node can be killed and restarted
 * while the others carry on. The cluster is ready when JetStream answers
 * through every node and can place a stream on all three, so a test can
 * create an R3 stream at once.
 *
 * @module
 */

import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { freePort, natsProcess, type NatsServer, natsServerPath } from "./_nats_server.ts";

/** A running cluster; see {@linkcode startNatsCluster}. */
export interface NatsCluster {
  /** `nats://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`: every node as a seed. */
  url: string;
  /** The nodes, each killed, restarted or stopped on its own. */
  nodes: NatsServer[];
  /** Stops every node and removes the stores. */
  stop(): Promise<void>;
}

const SIZE = 3;

/** Starts three `nats-server -js` nodes routed to each other, and waits for JetStream to answer. */
export async function startNatsCluster(): Promise<NatsCluster> {
  if (natsServerPath === undefined) throw new TypeError("No 'nats-server' installed");
  const root = await Deno.makeTempDir({ prefix: "spool_nats_cluster_" });
  const clientPorts = Array.from({ length: SIZE }, freePort);
  const routePorts = Array.from({ length: SIZE }, freePort);
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(",");
  const nodes: NatsServer[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await Deno.remove(root, { recursive: true }).catch(() => {});
  };
  try {
    for (let i = 0; i < SIZE; i++) {
      const dir = `${root}/n${i}`;
      await Deno.mkdir(dir);
      const args = [
        "-js",
        "-n",
        `spool-n${i}`,
        "-a",
        "127.0.0.1",
        "-p",
        String(clientPorts[i]),
        "-sd",
        dir,
        "-l",
        `${dir}/log`,
        "--cluster_name",
        "spool-test",
        "--cluster",
        `nats://127.0.0.1:${routePorts[i]}`,
        "--routes",
        routes,
      ];
      nodes.push(natsProcess(clientPorts[i]!, args));
    }
    await Promise.all(nodes.map((n) => n.restart()));
    const url = `nats://${clientPorts.map((p) => `127.0.0.1:${p}`).join(",")}`;
    await Promise.all(clientPorts.map((port) => waitForJetStream(port)));
    await waitForPlacement(url);
    return { url, nodes, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

// The meta leader answers before it knows every peer to be current: until
// then an R3 stream fails with "no suitable peers for placement". A probe
// stream is created (and deleted) until one fits.
async function waitForPlacement(url: string): Promise<void> {
  const nc = await connect({
    servers: url.slice("nats://".length).split(","),
    noAsyncTraces: true,
  });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2000 });
    let last: unknown;
    for (let attempt = 0; attempt < 150; attempt++) {
      try {
        await jsm.streams.add({
          name: "SPOOL_READY",
          subjects: ["spool.ready"],
          num_replicas: SIZE,
        });
        await jsm.streams.delete("SPOOL_READY");
        return;
      } catch (error) {
        last = error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`The cluster at '${url}' could not place an R3 stream within 15 s: ${last}`);
  } finally {
    await nc.close();
  }
}

// A cluster answers JetStream requests only once its meta leader is elected.
async function waitForJetStream(port: number): Promise<void> {
  const nc = await connect({ servers: `127.0.0.1:${port}`, noAsyncTraces: true });
  try {
    for (let attempt = 0; attempt < 150; attempt++) {
      try {
        const jsm = await jetstreamManager(nc, { timeout: 1000 });
        await jsm.getAccountInfo();
        return;
      } catch { /* no meta leader yet */ }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`JetStream on port '${port}' did not answer within 15 s`);
  } finally {
    await nc.close();
  }
}
