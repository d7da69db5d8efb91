# A plan set exists only in configuration: import it from that configuration written as JSON.
terraform import multicloud_defender_plan_set.std '{"access":"least_privilege","servers":{"plan":"P2"}}'
