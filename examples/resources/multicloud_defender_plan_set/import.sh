# A plan set exists only in configuration: import it from that configuration written as JSON.
terraform import multicloud_defender_plan_set.std '{"access":"least_privilege","servers":{"plan":"P2"}}'

# With subscription_id, the subscription's Defender plans are read after the import. An imported
# plan set changed none of them, so it puts none back on destroy.
terraform import multicloud_defender_plan_set.std '{"servers":{"plan":"P2"},"subscription_id":"00000000-0000-0000-0000-000000000000"}'
