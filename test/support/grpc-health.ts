import { credentials, loadPackageDefinition, type Client } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";

type HealthClient = Client & {
  check: (req: { service: string }, cb: (err: Error | null, res: { status: string }) => void) => void;
};

const definition = loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
  grpc: { health: { v1: { Health: new (address: string, creds: unknown) => HealthClient } } };
};

/** `grpc.health.v1.Health/Check` of a server (the whole server: service ""), e.g. "SERVING". */
export async function grpcHealth(address: string): Promise<string> {
  const client = new definition.grpc.health.v1.Health(address, credentials.createInsecure());
  try {
    return await new Promise<string>((resolve, reject) =>
      client.check({ service: "" }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
  } finally {
    client.close();
  }
}
