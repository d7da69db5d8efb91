# A namespace that is already registered is imported by its ARM id.
terraform import multicloud_resource_provider_registration.security /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Security
