# A migration is a one-time action and cannot be imported: once the classic connector is
# deleted there is nothing left to read. Remove the resource from the configuration instead.
