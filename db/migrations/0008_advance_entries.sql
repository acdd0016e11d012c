-- Advances of seed and fertiliser on credit (赊销农资) are entries of their own kind, so nothing
-- that reads purchase settlements from the ledger counts them as one.
ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_source_type_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_source_type_check CHECK (source_type IN (
    'distribution', 'settlement', 'advance', 'award', 'batch', 'bank_return', 'share_capital', 'subsidy',
    'manual', 'reversal'));
