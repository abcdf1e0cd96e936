//! CallResource: `GET /dimensions` lists the dimension names, `GET /dimensions/<name>` their
//! values, shaped as `[{text, value}]` for template variables; `POST /feedback` ingests a JSON
//! array or NDJSON body for Editors and Admins.

use std::collections::HashMap;

use futures_util::stream::{self, BoxStream};
use grafana_plugin_sdk::pluginv2::{self, resource_server::Resource};
use serde_json::{json, Value};

use super::viewer::without_server_paths;
use super::{data_source, Pulso};
use pulso_core::query::Dimension;

fn reply(code: i32, body: &Value) -> pluginv2::CallResourceResponse {
    let headers = HashMap::from([(
        "Content-Type".to_string(),
        pluginv2::StringList {
            values: vec!["application/json".to_string()],
        },
    )]);
    pluginv2::CallResourceResponse {
        code,
        headers,
        body: serde_json::to_vec(body).unwrap_or_default().into(),
    }
}

fn error(code: i32, message: String) -> pluginv2::CallResourceResponse {
    reply(code, &json!({ "error": without_server_paths(&message) }))
}

impl Pulso {
    async fn resource(
        &self,
        request: &pluginv2::CallResourceRequest,
    ) -> pluginv2::CallResourceResponse {
        let path = request.path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let allowed = match segments.as_slice() {
            ["feedback"] => "POST",
            _ => "GET",
        };
        if request.method != allowed {
            return error(
                405,
                format!(
                    "method {} is not allowed on /{path}: use {allowed}",
                    request.method
                ),
            );
        }
        match segments.as_slice() {
            ["feedback"] => self.post_feedback(request).await,
            ["dimensions"] => reply(200, &json!(Dimension::ALL.map(Dimension::name))),
            ["dimensions", name] => {
                let Some(dimension) = Dimension::from_name(name) else {
                    return error(
                        404,
                        format!(
                            "unknown dimension {name:?}: use one of {}",
                            Dimension::valid_names()
                        ),
                    );
                };
                let source = data_source(request.plugin_context.as_ref());
                match self.service.dimension_values(source.as_ref(), dimension).await {
                    Ok(found) => reply(
                        200,
                        &Value::Array(
                            found
                                .values
                                .into_iter()
                                .map(|v| json!({ "text": v, "value": v }))
                                .collect(),
                        ),
                    ),
                    Err(e) => error(i32::from(e.status()), e.to_string()),
                }
            }
            _ => error(
                404,
                format!("no resource at /{path}: use GET /dimensions, GET /dimensions/<name> or POST /feedback"),
            ),
        }
    }
}

/// Grafana's plugin channel carries at most 4 MiB; leave room for the envelope.
pub const MAX_FEEDBACK_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Roles that may write feedback.
const WRITER_ROLES: [&str; 2] = ["Editor", "Admin"];

impl Pulso {
    async fn post_feedback(
        &self,
        request: &pluginv2::CallResourceRequest,
    ) -> pluginv2::CallResourceResponse {
        let context = request.plugin_context.as_ref();
        let role = context
            .and_then(|c| c.user.as_ref())
            .map(|u| u.role.as_str())
            .filter(|r| !r.is_empty())
            .unwrap_or("None");
        if !WRITER_ROLES.contains(&role) {
            return error(
                403,
                format!("the role {role} may not add feedback: send it as a user with the Editor or Admin role in this organisation"),
            );
        }
        if request.body.len() > MAX_FEEDBACK_BODY_BYTES {
            return error(
                413,
                format!(
                    "the body is {} bytes; POST /feedback takes at most {MAX_FEEDBACK_BODY_BYTES} bytes (3 MiB) because Grafana's plugin channel carries at most 4 MiB: send smaller chunks, e.g. 5,000 rows per request",
                    request.body.len()
                ),
            );
        }
        let source = data_source(context);
        match self
            .service
            .push_feedback(source.as_ref(), request.body.to_vec(), &request.url)
            .await
        {
            Ok(report) => {
                if report.committed {
                    self.metrics.record_ingest(
                        report.stored,
                        report.duplicates,
                        report.rejected,
                        report.redactions,
                    );
                }
                let code = if report.committed { 200 } else { 422 };
                reply(code, &json!(report))
            }
            Err(e) => error(i32::from(e.status()), e.to_string()),
        }
    }
}

#[tonic::async_trait]
impl Resource for Pulso {
    type CallResourceStream =
        BoxStream<'static, Result<pluginv2::CallResourceResponse, tonic::Status>>;

    async fn call_resource(
        &self,
        request: tonic::Request<pluginv2::CallResourceRequest>,
    ) -> Result<tonic::Response<Self::CallResourceStream>, tonic::Status> {
        let response = self.resource(&request.into_inner()).await;
        Ok(tonic::Response::new(Box::pin(stream::once(async move {
            Ok(response)
        }))))
    }
}
