import { engineRoleToJSON, InstrumentState } from "@tradeplane/contracts";
import type { Target } from "../client/target.ts";
import { CliError, EXIT } from "../errors.ts";
import { enumLabel } from "../format.ts";
import { printResult, printTable } from "../output.ts";

/** Engines (role, log position, lag) and, locally, the health of every service. */
export async function showStatus(target: Target): Promise<void> {
  const token = target.adminToken();
  // Locally each partition's engine answers for its own partition: ask them all.
  const partitions = target.enginePartitions() ?? [undefined];
  const answers = await Promise.all(
    partitions.map((partition) => {
      const client = target.venueAdmin(partition);
      return target.call(
        "venueAdmin",
        token,
        client.getStatus.bind(client),
        partition === undefined ? {} : { partition },
        { partition },
      );
    }),
  );
  const res = { venue: answers[0]!.venue, replicas: answers.flatMap((a) => a.replicas) };
  const services: { service: string; ready: string }[] = [];
  const ops = target.state?.endpoints;
  if (ops !== undefined && target.flags.endpoint === undefined) {
    for (const [service, url] of [
      ...ops.engines.map((e) => [`engine-${e.partition}`, e.ops] as const),
      ["risk", ops.riskOps] as const,
      ["market-data", ops.marketDataOps] as const,
    ]) {
      let ready = "down";
      try {
        ready = (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok ? "ready" : "not ready";
      } catch {
        // stays "down"
      }
      services.push({ service, ready });
    }
  }
  if (target.flags.json === true) {
    printResult(true, { ...res, services, endpoints: ops }, "");
    return;
  }
  process.stdout.write(`venue ${res.venue}\n`);
  printTable(
    false,
    res,
    ["partition", "instance", "role", "applied seq", "log seq", "lag", "snapshot seq", "instruments"],
    res.replicas.map((r) => [
      r.partition,
      r.instance,
      enumLabel(engineRoleToJSON(r.role), "ENGINE_ROLE_"),
      r.lastCommandSeq,
      r.logLastCommandSeq,
      r.lag,
      r.lastSnapshotCommandSeq,
      r.instruments.join(" "),
    ]),
  );
  if (services.length > 0)
    printTable(
      false,
      services,
      ["service", "state"],
      services.map((s) => [s.service, s.ready]),
    );
  if (ops !== undefined && target.flags.endpoint === undefined)
    process.stdout.write(
      `order entry ${ops.orderEntry}   market data ${ops.marketData}   websocket ${ops.marketDataWs}\n`,
    );
}

export async function haltOrResume(
  target: Target,
  action: "halt" | "resume",
  symbol: string | undefined,
  flags: { reason?: string; all?: boolean; auction?: boolean },
): Promise<void> {
  if (symbol === undefined && flags.all !== true)
    throw new CliError(EXIT.USAGE, `say what to ${action}: a SYMBOL, or --all for every instrument`);
  const reason = flags.reason ?? (action === "halt" ? "halted from the CLI" : "resumed from the CLI");
  const instrument = symbol ?? "";
  const token = target.adminToken();
  // Each partition's engine halts its own instruments: the symbol's partition, or every one for --all.
  const local = target.enginePartitions();
  const listed = symbol === undefined ? undefined : target.venue()?.spec.instruments.find((i) => i.symbol === symbol);
  const partitions = local === undefined ? [undefined] : listed !== undefined ? [listed.partition] : local;
  const settled = await Promise.allSettled(
    partitions.map((partition) => {
      const client = target.venueAdmin(partition);
      return action === "halt"
        ? target.call("venueAdmin", token, client.halt.bind(client), { instrument, reason }, { partition })
        : target.call(
            "venueAdmin",
            token,
            client.resume.bind(client),
            {
              instrument,
              reason,
              state: flags.auction === true ? InstrumentState.PRE_OPEN : InstrumentState.CONTINUOUS,
            },
            { partition },
          );
    }),
  );
  // Asked of every engine (the symbol's partition unknown here), only the one that lists it
  // acts; the others answer that it is not on their partition.
  const notHere = (r: PromiseSettledResult<unknown>) =>
    r.status === "rejected" &&
    symbol !== undefined &&
    listed === undefined &&
    /is not on partition/.test(String(r.reason));
  const failed = settled.find((r) => r.status === "rejected" && !notHere(r));
  if (failed?.status === "rejected") throw failed.reason;
  const answers = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  if (answers.length === 0) throw (settled[0] as PromiseRejectedResult).reason;
  const res = { commands: answers.flatMap((a) => a.commands) };
  printResult(
    target.flags.json === true,
    res,
    `${action === "halt" ? "halted" : "resumed"} ${symbol ?? "every instrument"} (commands ${res.commands.map((c) => c.commandSeq).join(", ")})`,
  );
}
