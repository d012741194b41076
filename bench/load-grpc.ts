/**
 * gRPC load generator (a child of run.ts): grpc-js, 4 channels (connections),
 * `inFlight` calls at a time, a different token per call. A duration run stops
 * starting calls at the deadline and waits for those in flight, so every call
 * the server did is counted.
 */
import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { GetAuthStatusRequestSchema, GetAuthStatusResponseSchema, type GetAuthStatusResponse } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { loadMain } from "./load-protocol.js";

const path = "/sessionstorage.v1.AuthStatusService/GetAuthStatus";
const empty = Buffer.from(toBinary(GetAuthStatusRequestSchema, create(GetAuthStatusRequestSchema)));

await loadMain(async (spec, tokens) => {
  // A local subchannel pool per client: 4 real connections, not one shared.
  const clients = Array.from({ length: 4 }, () =>
    new grpc.Client(spec.target, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }));
  const call = (client: grpc.Client, token: string) =>
    new Promise<GetAuthStatusResponse>((resolve, reject) => {
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${token}`);
      client.makeUnaryRequest(path, () => empty, (b: Buffer) => fromBinary(GetAuthStatusResponseSchema, b), {}, metadata,
        (e, reply) => (e ? reject(e) : resolve(reply!)));
    });
  // Connect every channel before the measured window.
  await Promise.all(clients.map((c, i) => call(c, tokens[i % tokens.length]!)));

  return async (recorder) => {
    let issued = 0;
    let next = 0;
    const deadline = performance.now() + (spec.seconds ?? 4) * 1000;
    const more = () => (spec.amount ? issued < spec.amount : performance.now() < deadline);
    const worker = async (w: number) => {
      const client = clients[w % clients.length]!;
      while (more()) {
        issued++;
        const t0 = performance.now();
        try {
          const reply = await call(client, tokens[next++ % tokens.length]!);
          if (reply.success && reply.valid) recorder.ok(performance.now() - t0);
          else recorder.fail(`not valid: ${reply.message ?? ""}`);
        } catch (e) {
          recorder.fail(String(e));
        }
      }
    };
    await Promise.all(Array.from({ length: spec.inFlight }, (_, w) => worker(w)));
  };
});
