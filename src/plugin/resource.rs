//! CallResource: `GET /dimensions` lists the dimension names, `GET /dimensions/<name>` their
//! values, shaped as `[{text, value}]` for template variables.

use std::collections::HashMap;

use futures_util::stream::{self, BoxStream};
use grafana_plugin_sdk::pluginv2::{self, resource_server::Resource};
use serde_json::{json, Value};

use super::Pulso;
use crate::query::{Dimension, DimensionValuesQuery, Filters};

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
    reply(code, &json!({ "error": message }))
}

impl Pulso {
    async fn resource(
        &self,
        request: &pluginv2::CallResourceRequest,
    ) -> pluginv2::CallResourceResponse {
        let path = request.path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if request.method != "GET" {
            return error(
                405,
                format!(
                    "method {} is not allowed on /{path}: use GET",
                    request.method
                ),
            );
        }
        match segments.as_slice() {
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
                let store = match self.instances.store(request.plugin_context.as_ref()).await {
                    Ok(store) => store,
                    Err(e) => return error(500, e.to_string()),
                };
                let query = DimensionValuesQuery {
                    dimension,
                    filters: Filters::default(),
                };
                match store.dimension_values(&query).await {
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
                    Err(e) => error(500, e.to_string()),
                }
            }
            _ => error(
                404,
                format!("no resource at /{path}: use /dimensions or /dimensions/<name>"),
            ),
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
