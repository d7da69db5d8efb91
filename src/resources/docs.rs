//! Long schema descriptions, kept apart from the schema code so both stay readable.

pub(crate) const PROVIDER: &str = "The `multicloud` provider onboards AWS accounts and AWS Organizations into \
Microsoft Defender for Cloud, Azure Arc and Defender for Cloud Apps. It talks to Azure Resource Manager and \
to AWS; each cloud is logged in to lazily, the first time a resource or data source needs it, so a \
configuration that only touches AWS needs no Azure credentials and the other way round. One HTTP request \
may take 120 seconds (an AWS attempt 60) before it is abandoned and, where safe, retried; the environment \
variable `MULTICLOUD_REQUEST_TIMEOUT_SECONDS` sets another limit for both clouds.";

pub(crate) const AZURE_BLOCK: &str = "How to reach and log in to Azure. Every attribute can also be set with the \
environment variable named in its description, as with the `azurerm` and `azapi` providers; a value in this \
block wins over the environment. Credentials are tried in this order: client secret, OIDC token (Terraform \
Cloud / HCP Terraform dynamic credentials, GitHub Actions), managed identity, Azure CLI.";

pub(crate) const AWS_BLOCK: &str = "How to reach and log in to AWS. Without explicit keys the standard AWS \
credential chain is used (environment variables, shared config and credentials files with `profile`, SSO, \
web identity, container and instance metadata).";

pub(crate) const USE_OIDC: &str = "Log in with an OIDC token (workload identity federation) exchanged for an \
Entra ID token, as Terraform Cloud / HCP Terraform dynamic credentials and GitHub Actions do. The token comes \
from `oidc_token`, `oidc_token_file_path`, `ARM_OIDC_TOKEN`, `ARM_OIDC_TOKEN_FILE_PATH` or \
`TFC_WORKLOAD_IDENTITY_TOKEN`. Can also be set with `ARM_USE_OIDC`.";

pub(crate) const CA_CERT_FILE: &str = "Path to a PEM file with extra certificate authorities to trust for \
Azure Resource Manager and Entra ID, for networks behind a TLS-inspecting proxy (and the local emulator used \
in tests). The system roots stay trusted. Can also be set with `ARM_CA_CERT_FILE`.";

pub(crate) const REGISTER_PROVIDERS: &str = "Register the Azure resource providers a resource needs (for \
example `Microsoft.Security`) when they are not registered yet, and wait for the registration. When `false`, \
a missing registration is an error that names the namespace and how to register it. Defaults to `true`.";

pub(crate) const WEB_IDENTITY: &str = "Assume an IAM role with a web identity token (`sts:AssumeRoleWithWebIdentity`), \
for example the Terraform Cloud / HCP Terraform workload identity token. The token comes from \
`web_identity_token`, `web_identity_token_file`, `AWS_WEB_IDENTITY_TOKEN_FILE` or \
`TFC_WORKLOAD_IDENTITY_TOKEN`.";
