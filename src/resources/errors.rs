//! Where cloud errors become Terraform diagnostics: once, at the resource boundary.

use crate::aws::AwsError;
use crate::azure::AzureError;
use crate::protocol::Diagnostics;

/// Reports an Azure error; the detail keeps ARM's error code and message.
pub(crate) fn azure(diags: &mut Diagnostics, summary: &str, error: &AzureError) {
    let mut detail = error.to_string();
    let tls = matches!(
        error,
        AzureError::Credential { .. } | AzureError::Transport { .. }
    ) && detail.to_ascii_lowercase().contains("certificate");
    if tls {
        detail.push_str(TLS_HINT);
    }
    diags.error(summary, detail);
}

/// Reports an error of a write into a resource group, with the hint for the one ARM error a
/// user can fix in the resource's own configuration.
pub(crate) fn azure_write(diags: &mut Diagnostics, summary: &str, error: &AzureError) {
    if let AzureError::NotFound(d) = error
        && d.code.eq_ignore_ascii_case("ResourceGroupNotFound")
    {
        diags.attribute_error(
            crate::protocol::AttrPath::root("resource_group_name"),
            "Resource group not found",
            format!(
                "{error}\n\nCreate the resource group first (for example with azurerm_resource_group) \
                 or name an existing one."
            ),
        );
        return;
    }
    azure(diags, summary, error);
}

/// Most certificate failures in the field come from TLS-inspecting proxies.
const TLS_HINT: &str = "\n\nThe server's TLS certificate is not trusted. If a proxy on this network \
inspects TLS, give its CA certificate (PEM) in the provider's `azure.ca_cert_file` or ARM_CA_CERT_FILE.";

/// Reports an AWS error; the detail keeps the AWS error code and message.
pub(crate) fn aws(diags: &mut Diagnostics, summary: &str, error: &AwsError) {
    diags.error(summary, error.to_string());
}

/// The requires-import error, worded as the azurerm provider words it so users and tools that
/// match on it recognise it.
pub(crate) fn already_exists(diags: &mut Diagnostics, id: &str, type_name: &str) {
    diags.error(
        "Resource already exists",
        format!(
            "A resource with the ID \"{id}\" already exists - to be managed via Terraform this resource \
             needs to be imported into the State. Please see the resource documentation for \
             \"{type_name}\" for more information.\n\nImport it with:\n  terraform import {type_name}.<name> {id}\n(<name> is the resource's name in your configuration; with Terraform 1.5 or later an \
             `import` block with `id = \"{id}\"` does the same)."
        ),
    );
}
