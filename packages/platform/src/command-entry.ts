import type { Command } from "@tradeplane/contracts";

/**
 * The instrument a command is about, or undefined when it is about several (a mass cancel or
 * state change of every instrument, a time tick) or none.
 */
export function instrumentOfCommand(command: Pick<Command, "body">): string | undefined {
  const body = command.body;
  // A time tick, fence or block is about the whole partition: a barrier in orderEntry.
  if (body === undefined || body.$case === "timeTick" || body.$case === "fenceAccount" || body.$case === "blockAccount")
    return undefined;
  return body.value.instrument === "" ? undefined : body.value.instrument;
}

/**
 * The order in which the commands of one log entry are written: commands about the same
 * instrument next to each other, each instrument's commands in the order they came, the
 * instruments in the order they first came. A command about several instruments is a barrier
 * that nothing moves across. The engine then emits an entry's events in long runs about one
 * instrument, one event message per run, while the event stream stays in command order.
 *
 * Moving commands about different instruments past each other changes nothing a client can
 * see: they came in the same turn of the writer's event loop (no order between them exists),
 * a book depends only on its own instrument's commands, and no command of an entry can name an
 * order entered in the same entry (an order's id is known only once its entry is stored).
 */
export function orderEntry<T>(items: readonly T[], instrumentOf: (item: T) => string | undefined): readonly T[] {
  if (items.length <= 1) return items;
  const out: T[] = [];
  let groups = new Map<string, T[]>();
  const flush = (): void => {
    for (const group of groups.values()) for (const item of group) out.push(item);
    groups = new Map();
  };
  for (const item of items) {
    const instrument = instrumentOf(item);
    if (instrument === undefined) {
      flush();
      out.push(item);
      continue;
    }
    let group = groups.get(instrument);
    if (group === undefined) {
      group = [];
      groups.set(instrument, group);
    }
    group.push(item);
  }
  flush();
  return out;
}
