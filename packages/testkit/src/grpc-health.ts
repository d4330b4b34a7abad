import { credentials, loadPackageDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath } from "grpc-health-check";

type HealthClient = {
  check(req: { service: string }, cb: (err: Error | null, res: { status: string }) => void): void;
  close(): void;
};

let definition: { grpc: { health: { v1: { Health: new (address: string, creds: unknown) => HealthClient } } } };

/** The standard gRPC health answer of a server for `service` ("" = the whole server): SERVING, NOT_SERVING... */
export async function grpcHealth(address: string, service = ""): Promise<string> {
  definition ??= loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as typeof definition;
  const client = new definition.grpc.health.v1.Health(address, credentials.createInsecure());
  try {
    return await new Promise<string>((resolve, reject) =>
      client.check({ service }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
  } finally {
    client.close();
  }
}
