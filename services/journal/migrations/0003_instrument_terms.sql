-- The terms each instrument's trades are valued with, as the journal was configured (from the
-- venue spec) since valid_from_us: a journal answers for history, so a trade keeps the terms
-- in force at its time after the instrument is changed or removed from the spec. A row is
-- added when the journal starts with terms that differ from the newest row (the first row of
-- an instrument is valid from 0, for the trades journaled before terms were recorded); rows
-- are never updated or deleted. A trade at time t is valued with the row of its instrument
-- with the greatest valid_from_us <= t.
CREATE TABLE instrument_terms (
  instrument text NOT NULL,
  valid_from_us bigint NOT NULL CHECK (valid_from_us >= 0),
  -- Notional units (10^notionalExponent of the currency) of one lot at one tick: priceUnit x lotSize.
  notional_per_tick_lot bigint NOT NULL CHECK (notional_per_tick_lot >= 1),
  -- The spec's decimals it was made of (e.g. "0.01" INR, "75" shares), when the config gave them.
  price_unit text,
  lot_size text,
  PRIMARY KEY (instrument, valid_from_us)
);
