-- Indexes for the whole-day queries over every account: the trade register (trades of a
-- trading day, in engine order), the order-to-trade ratios (each account's order messages
-- and executions of the day) and the clearing obligations of all accounts (the day's
-- executions). Without them each scans every row the journal holds; the indexes of 0001
-- lead with the account or the instrument and serve one account's queries only.
-- Rows are inserted in roughly time order, so these stay well correlated with the heap.

CREATE INDEX trades_by_time ON trades (time_us);

CREATE INDEX executions_by_time ON executions (time_us);

-- Partial: only the events the ratios count (acceptances, replaces, cancellations), not the
-- trades and venue events, so the projector maintains it for part of the rows of its biggest
-- table. The predicate is the ratio query's, word for word, so the planner can use it.
CREATE INDEX order_events_messages_by_time ON order_events (time_us)
  WHERE kind IN ('accepted', 'replaced', 'cancelled');
