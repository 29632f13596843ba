"""What every step shares: the database connection and transactions, named errors, the SQL
loader, the step declaration and its ledger, the codebook's labels, the question selection."""
