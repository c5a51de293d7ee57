"""The organisation: units and their lineage, ranking groups, heads and their
tenures, logins' memberships, and who may see what (`access`). Every app
builds on it; it imports none of them (its tables keep the app label
`commitments`)."""
