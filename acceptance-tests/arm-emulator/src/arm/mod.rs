//! Azure Resource Manager: bearer-token check, `api-version` check and routing to the
//! subscription, provider, resource-group, role-assignment and generic resource handlers.

pub(crate) mod authorization;
mod implicit;
mod providers;
mod resource_groups;
mod resources;

pub(crate) use resource_groups::body_of as resource_group_body;

use hyper::{Method, StatusCode};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value, json};

use crate::errors::ArmError;
use crate::http::{Req, Resp};
use crate::server::Shared;
use crate::state::World;

/// The authenticated caller of an ARM request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// `appid` of the token.
    pub(crate) client_id: String,
}

impl Ctx<'_> {
    /// Root of operation URLs for this request.
    pub(crate) fn op_site(&self) -> crate::lro::OpSite<'_> {
        crate::lro::OpSite {
            base_url: &self.shared.url,
            subscription: &self.shared.config.subscription_id,
            api_version: &self.api_version,
        }
    }
}

/// Per-request context passed to the handlers.
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) req: &'a Req,
    pub(crate) caller: Caller,
    pub(crate) api_version: String,
}

fn unauthorized(shared: &Shared, code: &str, message: String) -> Resp {
    ArmError::new(StatusCode::UNAUTHORIZED, code, message)
        .into_resp()
        .with_header(
            "WWW-Authenticate",
            format!(
                "Bearer authorization_uri=\"{}/{}\", error=\"invalid_token\", error_description=\"The authentication failed because of missing 'Authorization' header or an invalid token.\"",
                shared.url, shared.config.tenant_id
            ),
        )
}

/// Accepts only unexpired bearer tokens this process issued for the ARM audience.
pub(crate) fn authenticate(shared: &Shared, req: &Req) -> Result<Caller, Resp> {
    let Some(header) = req.header("authorization") else {
        return Err(unauthorized(
            shared,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".to_string(),
        ));
    };
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let invalid = || {
        unauthorized(
            shared,
            "InvalidAuthenticationToken",
            "The access token is invalid.".to_string(),
        )
    };
    let claims = shared.signing_key.verify(token).map_err(|_| invalid())?;
    if claims.get("aud").and_then(Value::as_str) != Some(crate::token::ARM_AUDIENCE) {
        return Err(unauthorized(
            shared,
            "InvalidAuthenticationTokenAudience",
            "The access token has been obtained for wrong audience or resource.".to_string(),
        ));
    }
    let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
    if exp <= crate::clock::now_secs() {
        return Err(unauthorized(
            shared,
            "ExpiredAuthenticationToken",
            "The access token expiry UTC time is earlier than current UTC time.".to_string(),
        ));
    }
    let client_id = claims
        .get("appid")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?
        .to_string();
    Ok(Caller { client_id })
}

/// What every ARM request must pass first: a valid bearer token and an `api-version`, which is
/// returned.
pub(crate) fn preflight(shared: &Shared, req: &Req) -> Result<String, Resp> {
    preflight_caller(shared, req).map(|(_, v)| v)
}

fn preflight_caller(shared: &Shared, req: &Req) -> Result<(Caller, String), Resp> {
    let caller = authenticate(shared, req)?;
    let Some(api_version) = req.query_param("api-version").filter(|v| !v.is_empty()) else {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
        .into_resp());
    };
    Ok((caller, api_version.to_string()))
}

/// ARM's answer to an api-version the resource type is not served for.
pub(crate) fn unsupported_api_version(
    api_version: &str,
    short_type: &str,
    supported: &[&str],
) -> ArmError {
    ArmError::new(
        StatusCode::BAD_REQUEST,
        "NoRegisteredProviderFound",
        format!(
            "No registered resource provider found for API version '{api_version}' and type '{short_type}'. The supported api-versions are '{}'.",
            supported.join(", ")
        ),
    )
}

/// Serves an ARM request.
pub(crate) async fn route(shared: &Shared, req: &Req) -> Resp {
    if req.method == Method::GET && crate::security::members::concerns(&req.path) {
        crate::security::members::sync(shared).await;
    }
    if req.method == Method::GET && crate::hybrid::projection::concerns(&req.path) {
        crate::hybrid::projection::sync(shared).await;
    }
    if let Some(target) = crate::security::health::parse_path(&req.path) {
        return crate::security::health::serve(shared, req, target).await;
    }
    if let Some(target) = crate::hybrid::actions::parse_path(&req.path) {
        return crate::hybrid::actions::serve(shared, req, target).await;
    }
    let (caller, api_version) = match preflight_caller(shared, req) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let ctx = Ctx {
        shared,
        req,
        caller,
        api_version,
    };
    let resp = {
        let mut world = shared.world.lock();
        match dispatch(&ctx, &mut world) {
            Ok(r) => r,
            Err(e) => e.into_resp(),
        }
    };
    if req.method == Method::DELETE && crate::security::members::concerns(&req.path) {
        // Deleting an organization connector takes its members with it.
        crate::security::members::drop_orphans(shared);
    }
    resp
}

fn no_route(req: &Req) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "NoRegisteredProviderFound",
        format!(
            "No registered resource provider found for path '{}'.",
            req.path
        ),
    )
}

fn method_not_allowed(req: &Req) -> ArmError {
    ArmError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("The requested method '{}' is not allowed here.", req.method),
    )
}

fn dispatch(ctx: &Ctx<'_>, world: &mut World) -> Result<Resp, ArmError> {
    let req = ctx.req;
    let segs = req.segments();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    if l.first() != Some(&"subscriptions") {
        return Err(no_route(req));
    }
    if l.len() == 1 {
        return match req.method {
            Method::GET => Ok(Resp::ok(
                json!({"value": [providers::subscription_json(ctx.shared)]}),
            )),
            _ => Err(method_not_allowed(req)),
        };
    }
    let sub = segs[1];
    if !sub.eq_ignore_ascii_case(&ctx.shared.config.subscription_id) {
        return Err(crate::errors::subscription_not_found(sub));
    }
    match &l[2..] {
        [] if req.method == Method::GET => Ok(Resp::ok(providers::subscription_json(ctx.shared))),
        ["resourcegroups"] if req.method == Method::GET => resource_groups::list(ctx, world),
        ["resourcegroups", _] => resource_groups::handle(ctx, world, segs[3]),
        ["resourcegroups", _, "resources"] if req.method == Method::GET => {
            resource_groups::list_resources(ctx, world, segs[3])
        }
        ["resourcegroups", _, "providers", _, _, ..] => resources::handle(
            ctx,
            world,
            resources::Scope {
                rg: Some(segs[3]),
                namespace: segs[5],
                rest: &segs[6..],
            },
        ),
        ["providers"] if req.method == Method::GET => Ok(providers::list(ctx, world)),
        ["providers", _] if req.method == Method::GET => providers::get(ctx, world, segs[3]),
        ["providers", _, "register"] if req.method == Method::POST => {
            providers::register(ctx, world, segs[3], true)
        }
        ["providers", _, "unregister"] if req.method == Method::POST => {
            providers::register(ctx, world, segs[3], false)
        }
        ["providers", _, "operationstatuses", _] if req.method == Method::GET => {
            Ok(crate::lro::poll_status(world, segs[5]))
        }
        ["providers", _, "operationresults", _] if req.method == Method::GET => {
            let self_url = format!(
                "{}{}?api-version={}",
                ctx.shared.url, req.path, ctx.api_version
            );
            Ok(crate::lro::poll_result(world, segs[5], &self_url))
        }
        ["providers", "microsoft.authorization", "roleassignments"]
            if req.method == Method::GET =>
        {
            Ok(authorization::list_assignments(ctx, world))
        }
        ["providers", "microsoft.authorization", "roledefinitions", _]
            if req.method == Method::GET =>
        {
            authorization::definition(ctx, segs[5])
        }
        [
            "providers",
            "microsoft.hybridconnectivity",
            "generateawstemplate",
        ] if req.method == Method::POST => generate_aws_template(ctx, world),
        ["providers", _, _, ..] => resources::handle(
            ctx,
            world,
            resources::Scope {
                rg: None,
                namespace: segs[3],
                rest: &segs[4..],
            },
        ),
        _ => Err(no_route(req)),
    }
}

/// The Arc connector's template action: a subscription-level POST, not a resource action.
fn generate_aws_template(ctx: &Ctx<'_>, world: &World) -> Result<Resp, ArmError> {
    let namespace = "Microsoft.HybridConnectivity";
    let registered = world
        .providers
        .get(&namespace.to_ascii_lowercase())
        .is_some_and(|p| p.state == crate::state::RegState::Registered);
    if !registered {
        return Err(crate::errors::missing_registration(namespace));
    }
    let request = ctx
        .req
        .json()
        .map_err(|e| crate::errors::invalid_content(&e.to_string()))?;
    crate::hybrid::generate_aws_template(
        &ctx.shared.config.tenant_id,
        &ctx.api_version,
        world,
        &request,
    )
    .map(Resp::ok)
}

/// Characters escaped when a path is put back into a `nextLink`.
const PATH_ESCAPES: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'?');

/// One page of `items` per `$skiptoken`, with a `nextLink` when more remain.
pub(crate) fn paged(ctx: &Ctx<'_>, world: &World, items: Vec<Value>) -> Resp {
    let start = ctx
        .req
        .query_param("$skiptoken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let size = world.page_size.max(1);
    let page: Vec<Value> = items.iter().skip(start).take(size).cloned().collect();
    let mut body = json!({"value": page});
    if start + size < items.len() {
        body["nextLink"] = json!(format!(
            "{}{}?api-version={}&$skiptoken={}",
            ctx.shared.url,
            utf8_percent_encode(&ctx.req.path, PATH_ESCAPES),
            ctx.api_version,
            start + size
        ));
    }
    Resp::ok(body)
}
