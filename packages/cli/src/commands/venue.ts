import { engineRoleToJSON, InstrumentState } from "@tradeplane/contracts";
import type { Target } from "../client/target.ts";
import { CliError, EXIT } from "../errors.ts";
import { enumLabel } from "../format.ts";
import { printResult, printTable } from "../output.ts";

/** Engines (role, log position, lag) and, locally, the health of every service. */
export async function showStatus(target: Target): Promise<void> {
  const client = target.venueAdmin();
  const res = await target.call("venueAdmin", target.adminToken(), client.getStatus.bind(client), {});
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
  const client = target.venueAdmin();
  const instrument = symbol ?? "";
  const token = target.adminToken();
  const res =
    action === "halt"
      ? await target.call("venueAdmin", token, client.halt.bind(client), { instrument, reason })
      : await target.call("venueAdmin", token, client.resume.bind(client), {
          instrument,
          reason,
          state: flags.auction === true ? InstrumentState.PRE_OPEN : InstrumentState.CONTINUOUS,
        });
  printResult(
    target.flags.json === true,
    res,
    `${action === "halt" ? "halted" : "resumed"} ${symbol ?? "every instrument"} (commands ${res.commands.map((c) => c.commandSeq).join(", ")})`,
  );
}
